// The chat in headless Chromium, as two people use it: johndoe on node A and janedoe on node B, two browser contexts,
// two in-process nodes sharing a real redis-server. Every wait ends on something the page shows (bounded by
// Playwright's own timeout), never on a pause.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t from 'tap'
import { CHANNELS, type LiveSocketEvent } from '@wsauth/ws-bearer'
import { launchChromium } from '../../../test/helpers/browser.ts'
import { closed, opened } from '../../../test/helpers/index.ts'
import { freePort } from '../../../test/helpers/port.ts'
import { startRedis } from '../../../test/helpers/redis.ts'
import { TestClock, startNode, type ChatNode } from './fixture.ts'

/** Resolves once the guard has refreshed a socket of each of `subjects` in band. */
function refreshedFor (subjects: string[]): Promise<void> {
  const waiting = new Set(subjects)
  return new Promise((resolve) => {
    const onRefreshed = (event: unknown): void => {
      waiting.delete((event as LiveSocketEvent).subject)
      if (waiting.size > 0) return
      unsubscribe(CHANNELS.refreshed, onRefreshed)
      resolve()
    }
    subscribe(CHANNELS.refreshed, onRefreshed)
  })
}
import { ChatPage } from './page.ts'

t.test('two people, two nodes, one chat', async (t) => {
  const redis = await startRedis(t)
  const node = async (): Promise<ChatNode> => {
    const port = await freePort()
    return await startNode(t, {
      testClock: new TestClock('running'),
      config: { port, redisUrl: redis.url, allowedOrigins: [`http://127.0.0.1:${port}`] },
    })
  }
  const a = await node()
  const b = await node()
  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const john = await ChatPage.open(await chromium.browser.newContext(), `${a.origin}/`)
  const jane = await ChatPage.open(await chromium.browser.newContext({ viewport: { width: 375, height: 740 } }), `${b.origin}/`)

  await t.test('both sign in, see each other online and talk both ways', async (t) => {
    await john.signIn('johndoe', 'secret')
    await jane.signIn('janedoe', 'secret2')
    await john.seesOnline(['janedoe', 'johndoe (you)'])
    await jane.seesOnline(['janedoe (you)', 'johndoe'])
    await john.say('Hello from node A')
    await jane.sees('Hello from node A')
    await jane.say('Hi John, this is node B')
    await john.sees('Hi John, this is node B')
    await john.sees('Hello from node A')
    t.strictSame(await john.messages.locator('.text').allInnerTexts(), ['Hello from node A', 'Hi John, this is node B'])
    t.equal(await jane.page.locator('#transport').innerText(), 'subprotocol', 'the panel names the transport the client chose')
    t.match(await john.page.locator('#token-life').innerText(), /^1[45]:\d\d left$/, 'and the token\'s remaining life')
  })

  await t.test('messages are text: markup from another user is shown, never run', async (t) => {
    const markup = '<img src=x onerror="window.injected=true"><b>bold?</b> & <script>window.injected=true</script>'
    await john.say(markup)
    await jane.sees(markup)
    t.equal(await jane.messages.locator('img, b, script').count(), 0, 'no element came from the message')
    t.equal(await jane.page.evaluate("'injected' in globalThis"), false, 'nothing ran')
  })

  await t.test('janedoe cannot join admins; johndoe can', async (t) => {
    const admins = jane.rooms.getByRole('button', { name: /admins/ })
    t.match(await admins.innerText(), /locked/, 'shown as locked')
    await admins.click()
    await jane.page.getByText('You don\'t have access to #admins.').waitFor()
    t.equal(await jane.page.locator('#room-title').innerText(), '# general', 'she stays in general')
    await jane.say('still in general')
    await john.sees('still in general')

    await john.rooms.getByRole('button', { name: /admins/ }).click()
    await john.seesOnline(['johndoe (you)'])
    t.equal(await john.page.locator('#room-title').innerText(), '# admins')
    await john.say('admins only')
    await john.sees('admins only')
    await john.rooms.getByRole('button', { name: /general/ }).click()
    await john.sees('still in general')
    await jane.seesOnline(['janedoe (you)', 'johndoe'])
    t.equal(await jane.messages.getByText('admins only').count(), 0, 'nothing from admins reached her')
  })

  await t.test('375 px wide: nothing overflows, every control is there', async (t) => {
    const overflow = await jane.page.evaluate('document.scrollingElement.scrollWidth - innerWidth')
    t.equal(overflow, 0, 'no horizontal scrolling')
    for (const [role, name] of [['textbox', 'Message'], ['button', 'Send'], ['button', 'Sign out']] as const) {
      t.ok(await jane.page.getByRole(role, { name }).isVisible(), `${name} is visible`)
    }
    t.ok(await jane.online.isVisible())
    t.ok(await jane.rooms.isVisible())
  })

  await t.test('tokens refreshed in band as they near expiry: the conversation goes on, past the old tokens\' exp', async (t) => {
    // Every node's clock moves: tokens are issued, noticed and expired on it (TOKEN_TTL_SECONDS 900, notice 30 s).
    const advance = (ms: number): void => { a.clock.advance(ms); b.clock.advance(ms) }
    // A socket that never refreshes, with a token as old as theirs: the server closes it when that age runs out.
    const canaryToken = await a.signIn('johndoe', 'secret')
    const { socket: canary } = await opened(a.url, { headers: { authorization: `Bearer ${canaryToken.access_token}` } })
    const canaryClosed = closed(canary)

    const refreshed = refreshedFor(['johndoe', 'janedoe'])
    advance((900 - 30 + 1) * 1000)
    await refreshed
    await john.say('after the refresh')
    await jane.sees('after the refresh')
    advance(60_000)
    t.match(await canaryClosed, { code: 4401, reason: 'token expired' }, 'a token of their first sign-in has expired on the server')
    await jane.say('and past the old expiry')
    await john.sees('and past the old expiry')
    t.equal(await john.page.locator('#room-title').innerText(), '# general')
  })

  await t.test('the connection never left "Connected" on either page', async (t) => {
    t.strictSame(await john.connectionStates(), ['connecting', 'authenticating', 'open'])
    t.strictSame(await jane.connectionStates(), ['connecting', 'authenticating', 'open'])
  })

  await t.test('johndoe signs out her session through POST /revoke on node A: her page on node B returns to sign-in', async (t) => {
    const response = await fetch(`${a.origin}/revoke`, { method: 'POST', body: new URLSearchParams({ token: await jane.refreshToken() }) })
    t.equal(response.status, 200)
    t.equal(await jane.backAtSignIn(), 'You were signed out: your session was revoked.')
    await john.seesOnline(['johndoe (you)'])
  })

  await t.test('sign out: back at sign-in, and gone from "Online" everywhere', async (t) => {
    await jane.signIn('janedoe', 'secret2')
    await john.seesOnline(['janedoe', 'johndoe (you)'])
    await john.page.getByRole('button', { name: 'Sign out' }).click()
    t.equal(await john.backAtSignIn(), 'You have signed out.')
    await jane.seesOnline(['janedoe (you)'])
  })
})
