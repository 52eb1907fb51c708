import type { BrowserContext, Page } from 'playwright-core'

/** One row of the lab's table, as the page shows it: each cell's text, and the values the page marks on them. */
export interface LabRow {
  method: string
  site: 'same' | 'cross'
  /** `yes`, `no`, or `not tried` (the cross-site window was blocked or closed). */
  worked: string
  cells: Record<string, string>
  /** The close code each try ended with, as the page saw it. */
  codes: { good: string, badHttp: string, badClose: string }
  /** The cells' text, in the table's column order. */
  texts: string[]
}

// Page code as text: this project type-checks without the DOM library.
const READ_ROWS = `[...document.querySelectorAll('#rows tr')].map((tr) => {
  const cells = {}
  const values = {}
  for (const cell of tr.querySelectorAll('[data-cell]')) {
    cells[cell.dataset.cell] = cell.textContent
    values[cell.dataset.cell] = cell.dataset.value
  }
  return {
    method: tr.dataset.method,
    site: tr.dataset.site,
    worked: tr.dataset.worked,
    cells,
    codes: { good: values.page ?? '', badHttp: values['bad-http'] ?? '', badClose: values['bad-close'] ?? '' },
    texts: [...tr.cells].map((cell) => cell.textContent),
  }
})`

// A run takes a few seconds; this bounds a broken one, far above what a busy machine needs.
const RUN_BOUND_MS = 90_000

/** The lab page in a browser: sign in, wait for the table, read it. */
export class LabPage {
  readonly page: Page

  private constructor (page: Page) {
    this.page = page
  }

  static async open (context: BrowserContext, url: string): Promise<LabPage> {
    const page = await context.newPage()
    await page.goto(url)
    await page.locator('body[data-ready="true"]').waitFor()
    return new LabPage(page)
  }

  /** Signs in with the form's demo account and waits until every row has its result. */
  async run (): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign in and run the lab' }).click()
    await this.page.locator('#status[data-state="done"]').waitFor({ timeout: RUN_BOUND_MS })
  }

  async headings (): Promise<string[]> {
    return await this.page.locator('#results thead th').allTextContents()
  }

  async rows (): Promise<LabRow[]> {
    return await this.page.evaluate(READ_ROWS) as LabRow[]
  }

  /** Each link's target in the method column. */
  async readmeLinks (): Promise<string[]> {
    return await this.page.evaluate("[...document.querySelectorAll('#rows th a')].map((a) => a.href)") as string[]
  }

  /** How far the page is wider than its window, in pixels. */
  async horizontalOverflow (): Promise<number> {
    return await this.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number
  }

  /** The column names a row's cells carry for the narrow layout. */
  async cellLabels (method: string): Promise<string[]> {
    return await this.page.evaluate(`[...document.querySelectorAll('#rows tr[data-method="${method}"] td')].map((td) => td.dataset.label)`) as string[]
  }
}

function escapeCell (text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/** The table as Markdown, column for column as the page shows it; a row with one wide cell spans with dashes. */
export function markdownTable (headings: string[], rows: LabRow[]): string {
  const lines = [`| ${headings.join(' | ')} |`, `| ${headings.map(() => '---').join(' | ')} |`]
  for (const row of rows) {
    const texts = row.texts.length < headings.length
      ? [...row.texts, ...Array<string>(headings.length - row.texts.length).fill('—')]
      : row.texts
    lines.push(`| ${texts.map(escapeCell).join(' | ')} |`)
  }
  return lines.join('\n') + '\n'
}
