// The ambient methods (cookie, URI user info) from the page of a third origin: the browser sends the credential by
// itself, so only the Origin check stands between another page and the user's socket. Each app refuses that page,
// over HTTP (the page sees 1006) and in close mode (4403), while the lab page with the same credential gets in.
// Then the same refusals over TCP with the ws client, with their exact statuses, and the apps still serving; and the
// ticket, which is not ambient but is bound to the Origin that bought it.
import type { AddressInfo } from 'node:net'
import t from 'tap'
import Fastify from 'fastify'
import { launchChromium } from '../../../test/helpers/browser.ts'
import { closedOnOpen } from '../../../test/helpers/refusal.ts'
import { nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import type { SeenAttempt } from '../src/seen.ts'
import type { MethodId } from '../src/methods.ts'
import { startLab, type LabFixture } from './fixture.ts'

interface PageSocket { welcome: { type: string, subject: string, transport: string } | null, close: { code: number, reason: string } | null }

// Page code as text: this project type-checks without the DOM library. Opens a socket and settles on the app's
// welcome or on the close; a socket that does neither within a minute (a bound for a broken run) settles as it is.
const TRY_SOCKET = `(url) => new Promise((resolve) => {
  const seen = { welcome: null, close: null }
  const socket = new WebSocket(url)
  const bound = setTimeout(() => { socket.close(); resolve(seen) }, 60000)
  socket.onmessage = (event) => { seen.welcome = JSON.parse(event.data); socket.close(1000) }
  socket.onclose = (event) => { clearTimeout(bound); seen.close = { code: event.code, reason: event.reason }; resolve(seen) }
})`

async function seenSince (lab: LabFixture, method: MethodId, after: number): Promise<SeenAttempt[]> {
  const response = await fetch(`${lab.appOrigin(method)}/lab/seen?after=${after}`)
  return ((await response.json()) as { attempts: SeenAttempt[] }).attempts
}

async function lastSeen (lab: LabFixture, method: MethodId): Promise<number> {
  const response = await fetch(`${lab.appOrigin(method)}/lab/seen`)
  return ((await response.json()) as { last: number }).last
}

const results = (attempts: SeenAttempt[]): string[] => attempts.map((attempt) => attempt.result)

t.test('from the page of a third origin, in Chromium', async (t) => {
  const lab = await startLab(t)
  // The third origin: another port of localhost, so the same site, and the browser sends the lab's cookie there too.
  const foreign = Fastify({ logger: false })
  t.teardown(() => foreign.close())
  foreign.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><title>another origin</title><p>another origin'))
  await foreign.listen({ host: '127.0.0.1', port: 0 })
  const foreignUrl = `http://localhost:${(foreign.server.address() as AddressInfo).port}/`

  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const context = await chromium.browser.newContext()
  const labPage = await context.newPage()
  await labPage.goto(`${lab.pageUrl}/`)
  const token = await lab.token()
  // The lab page has the cookie app set its cookie, as the lab does.
  await labPage.evaluate(`import('/cookie-client.js').then(({ setSessionCookie }) => setSessionCookie(${JSON.stringify(`${lab.appOrigin('cookie')}/ws-auth`)}, ${JSON.stringify(token)}))`)
  const foreignPage = await context.newPage()
  await foreignPage.goto(foreignUrl)
  const trySocket = async (page: typeof labPage, url: string): Promise<PageSocket> =>
    await page.evaluate(`(${TRY_SOCKET})(${JSON.stringify(url)})`) as PageSocket

  const urls: Record<'cookie' | 'userinfo', (route: string) => string> = {
    cookie: (route) => `${lab.appOrigin('cookie', 'ws')}${route}`,
    userinfo: (route) => `${lab.appOrigin('userinfo', 'ws')}${route}`.replace('ws://', `ws://token:${token}@`),
  }
  for (const method of ['cookie', 'userinfo'] as const) {
    t.test(method, async (t) => {
      let before = await lastSeen(lab, method)
      t.strictSame(await trySocket(foreignPage, urls[method](`/${method}`)), { welcome: null, close: { code: 1006, reason: '' } },
        'HTTP mode: the foreign page sees 1006')
      t.strictSame(results(await seenSince(lab, method, before)), ['forbidden'], 'the guard refused the Origin')

      before = await lastSeen(lab, method)
      t.strictSame(await trySocket(foreignPage, urls[method](`/${method}/close-mode`)), { welcome: null, close: { code: 4403, reason: 'forbidden' } },
        'close mode: the foreign page sees 4403')
      t.strictSame(results(await seenSince(lab, method, before)), ['forbidden'], 'the guard refused the Origin')

      const fromLab = await trySocket(labPage, urls[method](`/${method}`))
      t.strictSame(fromLab.welcome, { type: 'welcome', subject: 'johndoe', transport: method === 'cookie' ? 'cookie' : 'basic' },
        'the lab page, with the same credential, gets in')
    })
  }
})

t.test('over TCP with the ws client: exact statuses, and the apps still serve', async (t) => {
  const lab = await startLab(t, { LOG_LEVEL: 'warn' })
  const token = await lab.token()
  const allowed = lab.pageUrl
  const foreignOrigins = ['http://evil.test', 'null', `http://localhost:${lab.base + 3}`, `https://localhost:${lab.base}`, `${allowed}/`]

  const session = await fetch(`${lab.appOrigin('cookie')}/ws-auth/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  t.equal(session.status, 204, 'the cookie exchange sets the cookie')
  const cookie = session.headers.get('set-cookie')!.split(';')[0]!
  const credentials: Record<'cookie' | 'userinfo', Record<string, string>> = {
    cookie: { cookie },
    userinfo: { authorization: `Basic ${Buffer.from(`token:${token}`).toString('base64')}` },
  }

  for (const method of ['cookie', 'userinfo'] as const) {
    t.test(method, async (t) => {
      const ws = lab.appOrigin(method, 'ws')
      for (const origin of foreignOrigins) {
        const refusal = await refused(`${ws}/${method}`, { headers: { ...credentials[method], origin } })
        t.equal(refusal.status, 403, `Origin ${origin}: 403`)
        t.strictSame(await closedOnOpen(`${ws}/${method}/close-mode`, { headers: { ...credentials[method], origin } }),
          { code: 4403, reason: 'forbidden' }, `Origin ${origin}, close mode: 4403`)
      }
      const { socket } = await opened(`${ws}/${method}`, { headers: { ...credentials[method], origin: allowed } })
      t.strictSame(JSON.parse(await nextMessage(socket)), { type: 'welcome', subject: 'johndoe', transport: method === 'cookie' ? 'cookie' : 'basic' },
        'the lab\'s Origin still gets in')
      socket.close()
    })
  }
})

t.test('the ticket, not ambient, is bound to the Origin that bought it', async (t) => {
  const lab = await startLab(t, { LOG_LEVEL: 'warn' })
  const token = await lab.token()
  const mint = async (origin: string): Promise<Response> => await fetch(`${lab.appOrigin('ticket')}/ws-ticket`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, origin },
  })
  t.equal((await mint('http://evil.test')).status, 403, 'a foreign page buys no ticket')

  const ws = lab.appOrigin('ticket', 'ws')
  const buy = async (): Promise<string> => ((await (await mint(lab.pageUrl)).json()) as { ticket: string }).ticket
  t.equal((await refused(`${ws}/ticket?ticket=${await buy()}`, { headers: { origin: 'http://evil.test' } })).status, 403,
    'a lab page\'s ticket from a foreign Origin: 403')
  t.strictSame(await closedOnOpen(`${ws}/ticket/close-mode?ticket=${await buy()}`, { headers: { origin: 'http://evil.test' } }),
    { code: 4403, reason: 'forbidden' }, 'in close mode: 4403')
  const { socket } = await opened(`${ws}/ticket?ticket=${await buy()}`, { headers: { origin: lab.pageUrl } })
  t.strictSame(JSON.parse(await nextMessage(socket)), { type: 'welcome', subject: 'johndoe', transport: 'ticket' },
    'the lab\'s Origin still gets in with a ticket of its own')
  socket.close()
})
