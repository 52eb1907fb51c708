// secured-echo's page as a person uses it, in headless Chromium: the conversation is hidden until sign-in, the page
// talks through @wsauth/client's bundle (a single-use ticket bought with the token; the token never in a URL), keeps talking across token
// expiry and a server restart without showing it, and signs out by revoking.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import type { Page, WebSocket as PageSocket } from 'playwright-core'
import { MemoryRefreshTokenStore } from '@wsauth/core'
import { buildApp } from '../../examples/secured-echo/src/app.ts'
import { configFromEnv } from '../../examples/secured-echo/src/config.ts'
import { launchChromium } from '../helpers/browser.ts'
import { freePort } from '../helpers/port.ts'
import { startSecuredEcho } from '../helpers/secured-echo.ts'

const chromium = await launchChromium()
t.teardown(() => chromium.close())

interface Watched {
  page: Page
  /** Every WebSocket the page opened. */
  sockets: PageSocket[]
  /** Every text frame the page received, auth protocol included. */
  frames: string[]
}

async function openPage (baseUrl: string): Promise<Watched> {
  const page = await chromium.browser.newPage()
  const sockets: PageSocket[] = []
  const frames: string[] = []
  page.on('websocket', (socket) => {
    sockets.push(socket)
    socket.on('framereceived', ({ payload }) => { frames.push(String(payload)) })
  })
  await page.goto(baseUrl)
  return { page, sockets, frames }
}

const indicator = (page: Page): Promise<string | null> => page.getByRole('status').textContent()
const logLines = async (page: Page): Promise<string[]> => ((await page.getByRole('log').textContent()) ?? '').split('\n').filter((line) => line !== '')

async function signIn (page: Page, username = 'johndoe', password = 'secret'): Promise<{ access_token: string }> {
  await page.getByLabel('username').fill(username)
  await page.getByLabel('password').fill(password)
  const answer = page.waitForResponse((response) => new URL(response.url()).pathname === '/token')
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  return await (await answer).json() as { access_token: string }
}

async function say (page: Page, text: string): Promise<void> {
  await page.getByPlaceholder('message').fill(text)
  await page.getByRole('button', { name: 'Send' }).click()
  await page.getByRole('log').getByText(`You wrote: ${text}`).waitFor()
}

t.test('sign in, talk, sign out: hidden until signed in, no token in a URL, sign-out revokes', async (t) => {
  const echo = await startSecuredEcho({ PORT: String(await freePort()), LOG_LEVEL: 'warn' })
  t.teardown(() => echo.stop())
  const { page, sockets } = await openPage(echo.baseUrl)
  t.teardown(() => page.close())

  t.equal(await page.getByPlaceholder('message').isVisible(), false, 'the message form is hidden before sign-in')
  t.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false)
  t.equal(await indicator(page), 'signed out')

  await signIn(page, 'johndoe', 'wrong')
  await page.getByText('Wrong username or password.').waitFor()
  t.equal(await page.getByPlaceholder('message').isVisible(), false, 'still hidden after a failed sign-in')

  const { access_token: accessToken } = await signIn(page)
  await page.getByRole('log').getByText('Welcome johndoe!').waitFor()
  await page.getByRole('status').getByText('connected').waitFor()
  t.equal(await page.getByLabel('username').isVisible(), false, 'the sign-in form is gone')
  await say(page, 'hello')
  t.strictSame(await logLines(page), ['Welcome johndoe!', 'You wrote: hello'])
  t.equal(sockets.length, 1)
  t.notOk(sockets[0]!.url().includes(accessToken) || new URL(sockets[0]!.url()).searchParams.has('token'), 'no token in the socket\'s URL')
  t.ok(new URL(sockets[0]!.url()).searchParams.has('ticket'), 'a single-use ticket: the browser\'s first choice')

  const revoked = page.waitForResponse((response) => new URL(response.url()).pathname === '/revoke')
  await page.getByRole('button', { name: 'Sign out' }).click()
  t.equal((await revoked).status(), 200, 'POST /revoke')
  await page.getByLabel('username').waitFor()
  t.equal(await page.getByPlaceholder('message').isVisible(), false, 'back to sign-in')
  t.equal(await indicator(page), 'signed out')
  t.equal(sockets.length, 1, 'no reconnect after sign-out')
})

t.test('TOKEN_TTL_SECONDS=3: past the first token\'s expiry on the same socket, and no auth chatter on the page', async (t) => {
  const echo = await startSecuredEcho({ PORT: String(await freePort()), LOG_LEVEL: 'warn', TOKEN_TTL_SECONDS: '3' })
  t.teardown(() => echo.stop())
  const { page, sockets, frames } = await openPage(echo.baseUrl)
  t.teardown(() => page.close())

  const { access_token: accessToken } = await signIn(page)
  const { exp } = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { exp: number }
  await page.getByRole('log').getByText('Welcome johndoe!').waitFor()
  await say(page, 'before')
  // Waits for time itself to pass the first token's exp (an event, not a margin): the server would have closed a
  // socket still on it.
  await page.waitForFunction((expiresAt) => Date.now() > expiresAt + 1000, exp * 1000, { polling: 100, timeout: 20_000 })
  await say(page, 'after')
  t.strictSame(await logLines(page), ['Welcome johndoe!', 'You wrote: before', 'You wrote: after'], 'only the conversation is shown')
  t.equal(sockets.length, 1, 'one socket: refreshed in band')
  t.ok(frames.some((frame) => frame.includes('auth.expiring')), 'the server announced the expiry')
  t.ok(frames.some((frame) => frame.includes('auth.ok')), 'and accepted the refresh')
  t.equal(await indicator(page), 'connected')
  t.equal(await page.getByRole('alert').textContent(), '', 'no notice')
})

t.test('a server restart: the page reconnects with a fresh token, and the message typed meanwhile goes out', async (t) => {
  // secured-echo in process, twice on one port with one config (JWT secret) and one refresh-token store: the restart
  // of a deployment whose sessions outlive a process.
  const port = await freePort()
  const config = configFromEnv({ PORT: String(port), LOG_LEVEL: 'silent' }, () => randomBytes(32).toString('base64url'))
  const refreshTokens = new MemoryRefreshTokenStore()
  const start = async (): Promise<Awaited<ReturnType<typeof buildApp>>> => {
    const app = await buildApp(config, { refreshTokens })
    await app.listen({ host: '127.0.0.1', port })
    return app
  }
  let app = await start()
  t.teardown(() => app.close())
  const { page, sockets } = await openPage(`http://127.0.0.1:${port}`)
  t.teardown(() => page.close())

  await signIn(page)
  await page.getByRole('log').getByText('Welcome johndoe!').waitFor()
  await say(page, 'hello')

  await app.close()
  await page.getByRole('status').getByText('reconnecting').waitFor()
  await page.getByPlaceholder('message').fill('while it was down')
  await page.getByRole('button', { name: 'Send' }).click()
  app = await start()
  await page.getByRole('log').getByText('You wrote: while it was down').waitFor()
  t.strictSame(await logLines(page), ['Welcome johndoe!', 'You wrote: hello', 'Welcome johndoe!', 'You wrote: while it was down'],
    'the queued message went out after the new welcome')
  t.equal(await indicator(page), 'connected')
  t.equal(await page.getByRole('alert').textContent(), '', 'no notice')
  t.equal(await page.getByLabel('username').isVisible(), false, 'still signed in')
  t.equal(sockets.length, 2)
  t.notOk(sockets.some((socket) => new URL(socket.url()).searchParams.has('token')), 'no token in either socket\'s URL')
})
