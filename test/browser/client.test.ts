// @wsauth/client's browser bundle in a real page (headless Chromium) against a real wsauth server on another origin of
// the same site: the page on http://localhost:P1, the server on http://localhost:P2, every route in close mode. The
// client picks its transport from the discovery document, survives an expiry (driven by the server's clock, not by a
// short TTL), and stops on 4403 with the reason shown.
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import Fastify from 'fastify'
import type { Page } from 'playwright-core'
import type { DiscoveryDocument, DiscoveryTransports } from '@wsauth/core'
import { launchChromium } from '../helpers/browser.ts'
import { closed, opened } from '../helpers/ws.ts'
import { EXPIRING_NOTICE_MS, TOKEN_TTL_SECONDS, fixtureDiscovery, refreshed, startServer } from '../../packages/client/test/fixture.ts'

// The bundle exactly as the package builds and exports it (`@wsauth/client/browser`).
const bundleScript = fileURLToPath(new URL('../../packages/client/scripts/bundle.mjs', import.meta.url))
execFileSync(process.execPath, [bundleScript])
const bundle = await readFile(fileURLToPath(import.meta.resolve('@wsauth/client/browser')), 'utf8')

interface Seen {
  transport: string | null
  state: string
  states: string[]
  reasons: string[]
  ticketReasons: string[]
  messages: string[]
  errors: string[]
  close: { code: number, reason: string, serverReason: string } | null
  status: string
}

// The page: a status line and a log, as an app would show them, driven by the client.
const PAGE = `<!doctype html><meta charset="utf-8"><title>client</title>
<p id="status">not connected</p>
<script type="module">
import { connect } from '/wsauth-client.js'
const server = new URLSearchParams(location.search).get('server')
const clients = []
window.harness = {
  start (path, subject, transport, ownTickets) {
    const seen = { transport: null, state: 'connecting', states: [], reasons: [], ticketReasons: [], messages: [], errors: [], close: null, status: '' }
    const mint = async () => (await fetch(server + '/mint?sub=' + subject)).text()
    const client = connect(server.replace('http', 'ws') + path, {
      transport: transport ?? undefined,
      getToken: async ({ reason }) => {
        seen.reasons.push(reason)
        return mint()
      },
      // The app's own tickets: bought at the ticket endpoint by the page itself.
      getTicket: ownTickets ? async ({ reason }) => {
        seen.ticketReasons.push(reason)
        const response = await fetch(server + '/ws-ticket', { method: 'POST', headers: { authorization: 'Bearer ' + await mint() } })
        return (await response.json()).ticket
      } : undefined,
    })
    const status = document.querySelector('#status')
    client.addEventListener('state', (event) => { seen.states.push(event.state); status.textContent = event.state })
    client.addEventListener('message', (event) => seen.messages.push(event.data))
    client.addEventListener('error', (event) => seen.errors.push(event.error.code))
    client.addEventListener('close', (event) => {
      seen.close = { code: event.code, reason: event.reason, serverReason: event.serverReason }
      status.textContent = 'closed: ' + event.code + ' ' + event.serverReason
    })
    clients.push({ client, seen })
    return clients.length - 1
  },
  until (id, predicate) {
    const { client, seen } = clients[id]
    return new Promise((resolve) => {
      const check = () => {
        seen.transport = client.transport
        seen.state = client.state
        seen.status = document.querySelector('#status').textContent
        if (new Function('seen', 'return ' + predicate)(seen)) resolve(seen)
        else setTimeout(check, 20)
      }
      check()
    })
  },
  send (id, text) { clients[id].client.send(text) },
  close (id) { clients[id].client.close() },
}
</script>`

async function harness<T> (page: Page, method: string, ...args: unknown[]): Promise<T> {
  return await page.evaluate(([name, values]) => {
    const target = (globalThis as unknown as { harness: Record<string, (...args: unknown[]) => unknown> }).harness
    return target[name]!(...values)
  }, [method, args] as [string, unknown[]]) as T
}

/** Waits in the page until `predicate` (JavaScript over `seen`) holds; every wait ends on an event, not a clock. */
const until = (page: Page, id: number, predicate: string): Promise<Seen> => harness<Seen>(page, 'until', id, predicate)

t.test('the bundled client in headless Chromium', async (t) => {
  const pages = Fastify({ logger: false })
  t.teardown(() => pages.close())
  pages.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE))
  pages.get('/wsauth-client.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(bundle))
  await pages.listen({ port: 0, host: '127.0.0.1' })
  const pageOrigin = `http://localhost:${(pages.server.address() as AddressInfo).port}`

  // The discovery document the server answers: the test narrows it per case, so that the client has one choice.
  let document: DiscoveryDocument = fixtureDiscovery(true)
  const server = await startServer(t, {
    browser: { origins: [pageOrigin] },
    ticket: true,
    discovery: (_request: unknown, reply: { header (name: string, value: string): { send (body: unknown): void } }) =>
      reply.header('access-control-allow-origin', '*').send(document),
  })
  const serverOrigin = `http://localhost:${server.port}`
  const withTransports = (transports: DiscoveryTransports, firstMessage = true): DiscoveryDocument => {
    const base = fixtureDiscovery(true)
    return { ...base, routes: base.routes.map((route) => ({ ...route, firstMessage, transports })) }
  }

  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const page = await chromium.browser.newPage()
  await page.goto(`${pageOrigin}/?server=${encodeURIComponent(serverOrigin)}`)
  await page.waitForFunction(() => 'harness' in globalThis)

  await t.test('each transport, picked from the discovery document', async (t) => {
    const cases: Array<[string, string, DiscoveryDocument, string | null, string]> = [
      ['all listed: the ticket, from the discovered endpoint', '/ws', fixtureDiscovery(true, true), null, 'ticket'],
      ['no ticket: subprotocol', '/ws', fixtureDiscovery(true), null, 'subprotocol'],
      ['no subprotocol: the first message', '/fm', withTransports({ bearer: {}, cookie: { endpoint: '/ws-auth' } }), null, 'first-message'],
      ['the query, only when named', '/ws', fixtureDiscovery(true), 'query', 'query'],
      // Last: the session cookie it leaves would ride along on later handshakes (the guard reads it before the query).
      ['neither: the cookie', '/ws', withTransports({ bearer: {}, cookie: { endpoint: '/ws-auth' } }, false), null, 'cookie'],
    ]
    for (const [name, path, listed, forced, transport] of cases) {
      document = listed
      const id = await harness<number>(page, 'start', path, 'alice', forced)
      await until(page, id, 'seen.messages.length === 1')
      await harness(page, 'send', id, 'hi')
      const seen = await until(page, id, 'seen.messages.length === 2')
      t.equal(seen.transport, transport, name)
      t.strictSame(seen.messages, [`Welcome alice via ${transport}!`, 'You wrote: hi'], `${name}: the server saw ${transport}`)
      t.strictSame(seen.states, ['authenticating', 'open'], 'authenticating until the server spoke (auth.ok or the welcome)')
      t.strictSame(seen.errors, [])
      await harness(page, 'close', id)
    }
    document = fixtureDiscovery(true)
    await page.context().clearCookies()
  })

  await t.test('getTicket: the page\'s own tickets, a fresh one for every attempt; getToken is not asked', async (t) => {
    document = fixtureDiscovery(true, true)
    const id = await harness<number>(page, 'start', '/plain', 'alice', null, true)
    await until(page, id, 'seen.messages.length === 1')
    server.skew(TOKEN_TTL_SECONDS * 1000 + 60_000)
    const seen = await until(page, id, 'seen.messages.length === 2')
    t.strictSame(seen.messages, ['Welcome alice via ticket!', 'Welcome alice via ticket!'], 'back after the 4401 token expired')
    t.strictSame(seen.ticketReasons, ['connect', 'unauthorized'])
    t.strictSame(seen.reasons, [], 'getToken not asked')
    t.equal(seen.transport, 'ticket')
    await harness(page, 'close', id)
    document = fixtureDiscovery(true)
  })

  await t.test('an expiry: refreshed in band, messages keep flowing, no auth chatter reaches the page', async (t) => {
    const id = await harness<number>(page, 'start', '/ws', 'alice', null)
    await until(page, id, "seen.state === 'open' && seen.messages.length === 1")
    // A socket with a token of the same age, closed by the server once its sweep has passed that expiry.
    const { socket: canary } = await opened(server.url('/plain'), { headers: { authorization: `Bearer ${server.sign('canary')}` } })
    const canaryClosed = closed(canary)
    const done = refreshed()
    server.skew(TOKEN_TTL_SECONDS * 1000 - EXPIRING_NOTICE_MS + 1000)
    await done
    await harness(page, 'send', id, 'after refresh')
    await until(page, id, 'seen.messages.length === 2')
    server.skew(EXPIRING_NOTICE_MS + 60_000)
    t.match(await canaryClosed, { code: 4401, reason: 'token expired' }, 'the old token\'s time has passed on the server')
    await harness(page, 'send', id, 'past the old expiry')
    const seen = await until(page, id, 'seen.messages.length === 3')
    t.strictSame(seen.messages, ['Welcome alice via subprotocol!', 'You wrote: after refresh', 'You wrote: past the old expiry'])
    t.strictSame(seen.reasons, ['connect', 'expiring'], 'a fresh token for the refresh')
    t.strictSame(seen.states, ['authenticating', 'open'], 'never left open')
    t.strictSame(seen.errors, [])
    await harness(page, 'close', id)
  })

  await t.test('4403: stops, with the reason shown', async (t) => {
    const before = server.handshakes
    const id = await harness<number>(page, 'start', '/ws', 'mallory', null)
    const seen = await until(page, id, 'seen.close !== null')
    t.strictSame(seen.close, { code: 4403, reason: 'forbidden', serverReason: 'forbidden' })
    t.equal(seen.status, 'closed: 4403 forbidden', 'the page shows why')
    t.equal(seen.state, 'closed')
    t.strictSame(seen.reasons, ['connect'], 'no second token asked for')
    t.equal(server.handshakes, before + 1, 'one handshake, no retry')
  })

  await t.test('an expired token on a live socket: straight back with a fresh one', async (t) => {
    const id = await harness<number>(page, 'start', '/plain', 'alice', null)
    await until(page, id, 'seen.messages.length === 1')
    server.skew(TOKEN_TTL_SECONDS * 1000 + 60_000)
    const seen = await until(page, id, 'seen.messages.length === 2')
    t.strictSame(seen.messages, ['Welcome alice via subprotocol!', 'Welcome alice via subprotocol!'])
    t.strictSame(seen.reasons, ['connect', 'unauthorized'])
    await harness(page, 'close', id)
  })
})
