import type { BrowserContext, Locator, Page } from 'playwright-core'

/**
 * The chat page as a person uses it, through the accessible names the page promises: text boxes "Username",
 * "Password", "Message"; buttons "Sign in", "Send", "Sign out"; lists "Rooms", "Messages", "Online".
 */
export class ChatPage {
  readonly page: Page

  constructor (page: Page) {
    this.page = page
  }

  /** A page in `context` that records every connection state it shows (`states`). */
  static async open (context: BrowserContext, url: string): Promise<ChatPage> {
    const page = await context.newPage()
    // Page code as text: this project type-checks without the DOM library.
    await page.addInitScript(`
      const states = []
      globalThis.connectionStates = states
      document.addEventListener('DOMContentLoaded', () => {
        const indicator = document.getElementById('connection')
        new MutationObserver(() => {
          if (states.at(-1) !== indicator.dataset.state) states.push(indicator.dataset.state)
        }).observe(indicator, { attributes: true, attributeFilter: ['data-state'] })
      })`)
    await page.goto(url)
    return new ChatPage(page)
  }

  get messages (): Locator { return this.page.getByRole('list', { name: 'Messages' }) }
  get online (): Locator { return this.page.getByRole('list', { name: 'Online' }) }
  get rooms (): Locator { return this.page.getByRole('list', { name: 'Rooms' }) }

  async signIn (username: string, password: string): Promise<void> {
    await this.page.getByRole('textbox', { name: 'Username' }).fill(username)
    await this.page.getByRole('textbox', { name: 'Password' }).fill(password)
    await this.page.getByRole('button', { name: 'Sign in' }).click()
    await this.online.getByText(username).waitFor()
  }

  async say (text: string): Promise<void> {
    await this.page.getByRole('textbox', { name: 'Message' }).fill(text)
    await this.page.getByRole('button', { name: 'Send' }).click()
  }

  /** Waits until a message with exactly this text is shown. */
  async sees (text: string): Promise<void> {
    await this.messages.getByText(text, { exact: true }).waitFor()
  }

  /** Waits until "Online" lists exactly these names (in order). */
  async seesOnline (names: string[]): Promise<void> {
    // A function, not text: Playwright polls text predicates with `eval`, which the page's CSP forbids.
    await this.page.waitForFunction((expected) => {
      const page = globalThis as unknown as { document: { querySelector (selector: string): { children: Iterable<{ textContent: string }> } } }
      const list = page.document.querySelector('[aria-label="Online"]')
      return JSON.stringify([...list.children].map((item) => item.textContent)) === expected
    }, JSON.stringify(names))
  }

  /** The connection states the page has shown since it loaded. */
  async connectionStates (): Promise<string[]> {
    return await this.page.evaluate('globalThis.connectionStates') as string[]
  }

  /** The sign-in page is back: resolves the one-line reason it shows. */
  async backAtSignIn (): Promise<string> {
    await this.page.getByRole('button', { name: 'Sign in' }).waitFor()
    return await this.page.locator('#signin-reason').innerText()
  }

  /** The refresh token this tab keeps (sessionStorage), as another party that got hold of it would. */
  async refreshToken (): Promise<string> {
    return await this.page.evaluate("JSON.parse(sessionStorage.getItem('wsauth-chat.session')).refreshToken") as string
  }
}
