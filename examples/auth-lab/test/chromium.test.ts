// The lab in real headless Chromium, as a person runs it: load the page, sign in, wait for the table, and check every
// row against what Chromium does. With AUTH_LAB_DOCS set (`pnpm --dir examples/auth-lab run table`), the same run
// writes the table as Markdown and the screenshots there, for the README.
import { writeFile } from 'node:fs/promises'
import t, { type Test } from 'tap'
import { launchChromium } from '../../../test/helpers/browser.ts'
import type { MethodId } from '../src/methods.ts'
import { startLab } from './fixture.ts'
import { LabPage, markdownTable, type LabRow } from './lab-page.ts'

interface Expected {
  worked: string
  page?: string
  server?: string
  log?: string
  url?: string
  badHttp?: string
  badClose?: string
}

const WELCOMED = 'welcome, then 1000 (page closed it)'

// What Chromium does, method by method. The cookie's bad-token tries start from a cleared cookie, and the bad token's
// exchange is refused, so the socket carries no cookie at all.
const SAME_SITE: Record<MethodId, Expected> = {
  'first-message': { worked: 'yes', page: WELCOMED, server: 'first-message: johndoe', log: 'not found', url: 'no', badHttp: '4401 "invalid token"', badClose: '4401 "invalid token"' },
  query: { worked: 'yes', page: WELCOMED, server: 'query: johndoe', log: 'not found', url: 'yes', badHttp: '1006', badClose: '4401 "invalid token"' },
  cookie: { worked: 'yes', page: WELCOMED, server: 'cookie: johndoe', log: 'not found', url: 'no', badHttp: 'cookie not set: invalid_token; 1006', badClose: 'cookie not set: invalid_token; 4401 "unauthorized"' },
  // Chromium sends user info only as the answer to a Basic challenge: the guard sees a bare handshake first. In close
  // mode there is no challenge (the handshake is upgraded), so the credential is never sent.
  userinfo: { worked: 'yes', page: WELCOMED, server: 'refused: no credential → basic: johndoe', log: 'not found', url: 'yes', badHttp: '1006', badClose: '4401 "unauthorized"' },
  // The 101 echoes the application protocol, never the token.
  subprotocol: { worked: 'yes', page: 'welcome over lab.v1, then 1000 (page closed it)', server: 'subprotocol: johndoe', log: 'not found', url: 'no', badHttp: '1006', badClose: '4401 "invalid token"' },
  // The token buys a ticket (POST /ws-ticket, Bearer); only the single-use ticket goes in the URL. A bad token buys none.
  ticket: { worked: 'yes', page: WELCOMED, server: 'ticket: johndoe', log: 'not found', url: 'ticket only', badHttp: 'no ticket: 401 invalid_token; 1006', badClose: 'no ticket: 401 invalid_token; 4401 "unauthorized"' },
}

// From the page on 127.0.0.1: the cookie app accepts the token but the browser does not store a SameSite cookie for a
// frame under another site, nor send one with that site's WebSocket; the guard sees no credential.
const CROSS_SITE: Partial<Record<MethodId, Expected>> = {
  cookie: { worked: 'no', page: 'cookie not set: cookie_not_stored; 1006', server: 'refused: no credential', log: 'not found', url: 'no', badHttp: 'cookie not set: invalid_token; 1006', badClose: 'cookie not set: invalid_token; 4401 "unauthorized"' },
  // Nothing ambient: the ticket is minted for, and redeemed from, the page's own origin, whatever its site.
  ticket: { worked: 'yes', page: WELCOMED, server: 'ticket: johndoe', log: 'not found', url: 'ticket only', badHttp: 'no ticket: 401 invalid_token; 1006', badClose: 'no ticket: 401 invalid_token; 4401 "unauthorized"' },
}

function checkRow (t: Test, row: LabRow, expected: Expected): void {
  const name = `${row.method} (${row.site} site)`
  t.equal(row.worked, expected.worked, `${name}: worked`)
  const cells: Array<[keyof Expected, string]> = [['page', 'page'], ['server', 'server'], ['log', 'log'], ['url', 'url'], ['badHttp', 'bad-http'], ['badClose', 'bad-close']]
  for (const [key, cell] of cells) {
    if (expected[key] !== undefined) t.equal(row.cells[cell], expected[key], `${name}: ${cell}`)
  }
}

const docs = process.env.AUTH_LAB_DOCS

t.test('the lab in Chromium: every row as Chromium does it', async (t) => {
  const lab = await startLab(t)
  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 })
  const labPage = await LabPage.open(context, `${lab.pageUrl}/`)
  const crossSiteWindow = context.waitForEvent('page')
  await labPage.run()
  const rows = await labPage.rows()
  const crossSite = await crossSiteWindow
  t.equal(crossSite.url(), `http://127.0.0.1:${lab.base}/cross-site`, 'the cross-site row ran in a window on 127.0.0.1')
  if (!crossSite.isClosed()) await crossSite.waitForEvent('close')
  t.pass('the lab page closed the cross-site window once it had the results')

  t.strictSame(rows.map((row) => `${row.method}/${row.site}`), [
    ...Object.keys(SAME_SITE).map((id) => `${id}/same`),
    ...Object.keys(CROSS_SITE).map((id) => `${id}/cross`),
  ], 'one row per method, then the cross-site rows')
  for (const row of rows) checkRow(t, row, (row.site === 'same' ? SAME_SITE : CROSS_SITE)[row.method as MethodId]!)
  t.match(await labPage.page.locator('#status').textContent(), /^Done: 6 of 6 methods worked for johndoe/)

  t.test('each row links to the README of its method', async (t) => {
    const links = await labPage.readmeLinks()
    t.equal(links.length, rows.length)
    for (const link of links) t.match(link, /^https:\/\/github\.com\/wsauth\/wsauth\/tree\/main\/packages\/[a-z-]+#[a-z-]+$/)
  })

  t.test('no token reached the lab\'s output', async (t) => {
    t.notMatch(lab.server.output(), /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/)
  })

  if (docs !== undefined) {
    const intro = `Results in Chromium ${chromium.browser.version()} (headless), from the run of \`test/chromium.test.ts\` that checked them:`
    await writeFile(`${docs}/table.md`, `${intro}\n\n${markdownTable(await labPage.headings(), rows)}`)
    await labPage.page.screenshot({ path: `${docs}/lab.png`, fullPage: true })
  }

  t.test('at 375 px the table becomes cards, with nothing wider than the screen', async (t) => {
    await labPage.page.setViewportSize({ width: 375, height: 800 })
    t.equal(await labPage.horizontalOverflow(), 0, 'no horizontal scrolling')
    t.strictSame(await labPage.cellLabels('query'), (await labPage.headings()).slice(1), 'each cell carries its column\'s name')
    if (docs !== undefined) {
      await labPage.page.evaluate("document.getElementById('results-heading').scrollIntoView()")
      await labPage.page.screenshot({ path: `${docs}/lab-phone.png` })
    }
  })

  t.test('the controls have accessible names', async (t) => {
    const page = labPage.page
    t.equal(await page.getByRole('textbox', { name: 'Username' }).count(), 1)
    t.equal(await page.getByLabel('Password').count(), 1)
    t.equal(await page.getByRole('button', { name: 'Sign in and run the lab' }).count(), 1)
    t.equal(await page.getByRole('table', { name: '2. Results' }).count(), 1)
    t.equal(await page.getByRole('status').count(), 1)
  })

  t.test('a wrong password: the page says so, and tries nothing', async (t) => {
    const page = await context.newPage()
    await page.goto(`${lab.pageUrl}/`)
    await page.locator('body[data-ready="true"]').waitFor()
    await page.getByLabel('Password').fill('wrong')
    await page.getByRole('button', { name: 'Sign in and run the lab' }).click()
    t.equal(await page.getByRole('alert').textContent(), 'invalid username or password')
    t.equal(await page.locator('#rows tr').count(), 0, 'no rows')
    t.equal(await page.getByRole('button', { name: 'Sign in and run the lab' }).isEnabled(), true, 'the button works again')
  })
})
