// The hidden-iframe cookie in real headless Chromium, with two origins of one site: the app page on
// http://localhost:P1 and the WebSocket server on http://localhost:P2 (close mode, so the page sees close codes).
// A third server on P3 plays the attacker, as http://localhost:P3 (same site: the browser sends the cookie) and as
// http://127.0.0.1:P3 (another site: SameSite=Strict keeps the cookie home). Only the Origin check stops the first.
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import type { BrowserContext, Page } from 'playwright-core'
import wsBearer from '@wsauth/ws-bearer'
import cookieIframe from '@wsauth/cookie-iframe'
import { launchChromium } from '../helpers/browser.ts'
import { SECRET } from '../helpers/jwt.ts'

const COOKIE_SECRET = 'browser-test-cookie-signing-key-000000000'
// How long `setSessionCookie` waits for the iframe where the iframe does answer: only a bound for a broken run, far
// above any delay of a busy machine. Where the iframe never answers, the test's own short bound is the outcome.
const IFRAME_ANSWERS_WITHIN_MS = 60_000

/** What a page can do, defined by the page's own script below (plain JavaScript: it runs in the browser). */
interface Harness {
  login (endpoint: string, token: string, timeoutMs: number): Promise<Outcome>
  logout (endpoint: string): Promise<Outcome>
  connect (url: string): Promise<{ id: number, first: string | null, close: Close | null }>
  echo (id: number, text: string): Promise<string>
  closed (id: number): Promise<Close>
  close (id: number): Promise<Close>
  frameWithIntruders (endpoint: string, intruderUrls: string[], token: string): Promise<{ good: Outcome, replies: unknown[] }>
}
interface Outcome { ok: boolean, status?: number, error?: string }
interface Close { code: number, reason: string }

const HARNESS = `
const sockets = []
const outcome = async (promise) => {
  try {
    await promise
    return { ok: true }
  } catch (error) {
    return { ok: false, status: error.status, error: error.error }
  }
}
window.harness = {
  async login (endpoint, token, timeoutMs) {
    const { setSessionCookie } = await import(endpoint + '/client.js')
    return outcome(setSessionCookie(endpoint, token, { timeoutMs }))
  },
  async logout (endpoint) {
    const { clearSessionCookie } = await import(endpoint + '/client.js')
    return outcome(clearSessionCookie(endpoint))
  },
  connect (url) {
    return new Promise((resolve) => {
      const socket = new WebSocket(url)
      const entry = { socket }
      const id = sockets.push(entry) - 1
      entry.closed = new Promise((done) => socket.addEventListener('close', (event) => done({ code: event.code, reason: event.reason })))
      socket.addEventListener('message', (event) => resolve({ id, first: event.data, close: null }), { once: true })
      entry.closed.then((close) => resolve({ id, first: null, close }))
    })
  },
  echo (id, text) {
    const { socket } = sockets[id]
    const reply = new Promise((resolve) => socket.addEventListener('message', (event) => resolve(event.data), { once: true }))
    socket.send(text)
    return reply
  },
  closed (id) { return sockets[id].closed },
  close (id) { sockets[id].socket.close(1000); return sockets[id].closed },
  // Loads the wsauth iframe by hand, lets each intruder frame post it a token, then posts the good one.
  async frameWithIntruders (endpoint, intruderUrls, token) {
    const serverOrigin = new URL(endpoint).origin
    const replies = []
    window.addEventListener('message', (event) => { if (event.data && event.data.type === 'wsauth:result') replies.push(event.data) })
    const frame = document.createElement('iframe')
    frame.src = endpoint + '/iframe'
    await new Promise((resolve) => { frame.addEventListener('load', resolve, { once: true }); document.body.append(frame) })
    for (const url of intruderUrls) {
      const intruder = document.createElement('iframe')
      intruder.src = url
      await new Promise((resolve) => {
        window.addEventListener('message', (event) => { if (event.data === 'intruder-posted') resolve() })
        document.body.append(intruder)
      })
    }
    const good = new Promise((resolve) => window.addEventListener('message', (event) => {
      if (event.origin === serverOrigin && event.source === frame.contentWindow && event.data.id === 'good') resolve(event.data)
    }))
    frame.contentWindow.postMessage({ type: 'wsauth:set-session', id: 'good', token }, serverOrigin)
    return { good: await good, replies }
  },
}
`

// An intruder frame: posts a well-formed request to the page's first frame (the wsauth iframe), then tells the page.
const INTRUDER = `
const params = new URLSearchParams(location.search)
parent.frames[0].postMessage({ type: 'wsauth:set-session', id: 'intruder', token: params.get('token') }, params.get('target'))
parent.postMessage('intruder-posted', '*')
`

/** Calls the page's harness: the call crosses into the browser as a method name and JSON arguments. */
async function call<M extends keyof Harness> (page: Page, method: M, ...args: Parameters<Harness[M]>): Promise<Awaited<ReturnType<Harness[M]>>> {
  return await page.evaluate(([name, values]) => {
    const harness = (globalThis as unknown as { harness: Record<string, (...args: unknown[]) => unknown> }).harness
    return harness[name]!(...values)
  }, [method, args] as [string, unknown[]]) as Awaited<ReturnType<Harness[M]>>
}

/** A page server: `/` runs the harness, `/intruder` the intruder. */
async function pageServer (t: Test): Promise<{ app: FastifyInstance, port: number }> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  const html = (script: string): string => `<!doctype html><meta charset="utf-8"><title>page</title><body><script type="module">${script}</script></body>`
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html(HARNESS)))
  app.get('/intruder', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html(INTRUDER)))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port }
}

interface Seen { method: string, path: string, origin: string | undefined, cookie: boolean, site: string | undefined }

/** The WebSocket server: the guard in close mode, allowing `appOrigin`, and the cookie-iframe plugin. */
async function websocketServer (t: Test, appOrigin: string): Promise<{ app: FastifyInstance, port: number, seen: Seen[] }> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  const seen: Seen[] = []
  app.addHook('onRequest', async (request) => {
    seen.push({
      method: request.method,
      path: request.url.split('?')[0]!,
      origin: request.headers.origin,
      cookie: request.headers.cookie?.includes('wsauth=') ?? false,
      site: request.headers['sec-fetch-site'] as string | undefined,
    })
  })
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  await app.register(wsBearer, { origins: [appOrigin], mode: 'close' })
  await app.register(cookieIframe, { secret: COOKIE_SECRET })
  app.get('/ws', { websocket: true }, (socket, request) => {
    socket.send(`Welcome ${request.identity!.subject}!`)
    socket.on('message', (data) => socket.send(`You wrote: ${String(data)}`))
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port, seen }
}

t.test('the hidden-iframe cookie in headless Chromium', async (t) => {
  const appPages = await pageServer(t)
  const attacker = await pageServer(t)
  const appOrigin = `http://localhost:${appPages.port}`
  const server = await websocketServer(t, appOrigin)
  const endpoint = `http://localhost:${server.port}/ws-auth`
  const wsUrl = `ws://localhost:${server.port}/ws`
  const foreignPages = [`http://localhost:${attacker.port}`, `http://127.0.0.1:${attacker.port}`]
  const jwt = (server.app as unknown as { jwt: { sign (payload: object, options?: object): string } }).jwt
  const sign = (sub: string): string => jwt.sign({ sub }, { expiresIn: 600 })
  const sessionPosts = (): Seen[] => server.seen.filter((entry) => entry.method === 'POST' && entry.path === '/ws-auth/session')

  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const openPage = async (context: BrowserContext, url: string): Promise<{ page: Page }> => {
    const page = await context.newPage()
    await page.goto(`${url}/`)
    await page.waitForFunction(() => 'harness' in globalThis)
    return { page }
  }
  // One browser profile for the signed-in user, kept across the subtests that need its cookie.
  const userContext = await chromium.browser.newContext()
  const app = await openPage(userContext, appOrigin)

  await t.test('the whole flow: iframe, cookie, and a socket that sees the user', async (t) => {
    const login = await call(app.page, 'login', endpoint, sign('alice'), IFRAME_ANSWERS_WITHIN_MS)
    t.strictSame(login, { ok: true }, 'setSessionCookie resolved')
    const posts = sessionPosts()
    t.equal(posts.length, 1, 'one POST /session')
    t.equal(posts[0]!.site, 'same-origin', 'sent by the iframe, same-origin (Sec-Fetch-Site)')
    t.match(server.seen.filter((entry) => entry.path === '/ws-auth/session'),
      [{ method: 'POST', cookie: false }, { method: 'GET', cookie: true }], 'the iframe checked that the cookie comes back')

    const cookies = await userContext.cookies(`http://localhost:${server.port}`)
    t.equal(cookies.length, 1, 'one cookie for the WebSocket origin')
    t.match(cookies[0], { name: 'wsauth', domain: 'localhost', path: '/', httpOnly: true, secure: false, sameSite: 'Strict' })
    t.notOk(await app.page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie.includes('wsauth')),
      'HttpOnly: no script can read it')

    const socket = await call(app.page, 'connect', wsUrl)
    t.equal(socket.first, 'Welcome alice!', 'the socket sees the user')
    t.equal(await call(app.page, 'echo', socket.id, 'hi'), 'You wrote: hi')
    t.match(server.seen.at(-1), { method: 'GET', path: '/ws', origin: appOrigin, cookie: true }, 'the handshake carried the cookie')
    t.strictSame(await call(app.page, 'close', socket.id), { code: 1000, reason: '' })
  })

  await t.test('a page on a foreign origin gets no cookie set through the iframe', async (t) => {
    for (const origin of foreignPages) {
      await t.test(origin, async (t) => {
        const context = await chromium.browser.newContext()
        t.teardown(() => context.close())
        const foreign = await openPage(context, origin)
        const before = sessionPosts().length
        // Listening before the login, the refusal is seen whenever Chromium reports it, before the helper gives up or after.
        const framingRefused = foreign.page.waitForEvent('console', { predicate: (message) => message.text().includes('frame-ancestors'), timeout: 0 })
        const login = await call(foreign.page, 'login', endpoint, sign('mallory'), 2_000)
        t.strictSame(login, { ok: false, status: 0, error: 'timeout' }, 'the iframe never answers')
        t.equal(sessionPosts().length, before, 'no POST /session was made')
        t.strictSame(await context.cookies(), [], 'no cookie in the browser')
        t.match((await framingRefused).text(), /frame-ancestors/, 'Chromium refused to frame it (CSP frame-ancestors)')
      })
    }
  })

  await t.test('a socket opened by a foreign page while the cookie exists: 4403', async (t) => {
    for (const [origin, sendsCookie] of [[foreignPages[0]!, true], [foreignPages[1]!, false]] as const) {
      const foreign = await openPage(userContext, origin)
      const socket = await call(foreign.page, 'connect', wsUrl)
      t.strictSame(socket, { id: 0, first: null, close: { code: 4403, reason: 'forbidden' } }, `${origin}: 4403, seen by the page`)
      const handshake = server.seen.at(-1)!
      t.match(handshake, { method: 'GET', path: '/ws', origin }, `${origin}: the handshake carried its Origin`)
      t.equal(handshake.cookie, sendsCookie, sendsCookie
        ? `${origin} is the same site: SameSite=Strict does not stop the cookie, the Origin check does`
        : `${origin} is another site: SameSite=Strict kept the cookie back`)
      await foreign.page.close()
    }
  })

  await t.test('a postMessage from a wrong origin is ignored', async (t) => {
    const context = await chromium.browser.newContext()
    t.teardown(() => context.close())
    const page = await openPage(context, appOrigin)
    const intruders = foreignPages.map((origin) =>
      `${origin}/intruder?${new URLSearchParams({ token: sign('mallory'), target: `http://localhost:${server.port}` }).toString()}`)
    const before = sessionPosts().length
    const result = await call(page.page, 'frameWithIntruders', endpoint, intruders, sign('alice'))
    t.match(result.good, { ok: true, status: 204 }, 'the parent\'s own message is answered')
    t.strictSame(result.replies.map((reply) => (reply as { id: string }).id), ['good'], 'nothing else was answered')
    t.equal(sessionPosts().length, before + 1, 'one POST /session: the intruders\' messages were dropped')
    const socket = await call(page.page, 'connect', wsUrl)
    t.equal(socket.first, 'Welcome alice!', 'the session is the parent\'s')
  })

  await t.test('logout: the cookie is cleared and the user\'s open socket closes', async (t) => {
    const socket = await call(app.page, 'connect', wsUrl)
    t.equal(socket.first, 'Welcome alice!')
    t.strictSame(await call(app.page, 'logout', endpoint), { ok: true })
    t.strictSame(await call(app.page, 'closed', socket.id), { code: 4401, reason: 'token revoked' })
    t.strictSame(await userContext.cookies(`http://localhost:${server.port}`), [], 'the cookie is gone')
    const again = await call(app.page, 'connect', wsUrl)
    t.match(again, { first: null, close: { code: 4401, reason: 'unauthorized' } }, 'a new socket has no credential')
  })

  await t.test('a refused token: the helper rejects with the server\'s error', async (t) => {
    const login = await call(app.page, 'login', endpoint, 'not-a-token', IFRAME_ANSWERS_WITHIN_MS)
    t.strictSame(login, { ok: false, status: 401, error: 'invalid_token' })
  })

  await t.test('a parent on another site: the token is accepted, Chromium does not keep the cookie, the helper says so', async (t) => {
    // The allowed parent is http://127.0.0.1:P1, the server http://localhost:P4: two sites, so the iframe is a
    // third-party context and its SameSite=Strict cookie is refused.
    const crossSiteOrigin = `http://127.0.0.1:${appPages.port}`
    const crossSite = await websocketServer(t, crossSiteOrigin)
    const context = await chromium.browser.newContext()
    t.teardown(() => context.close())
    const { page } = await openPage(context, crossSiteOrigin)
    const login = await call(page, 'login', `http://localhost:${crossSite.port}/ws-auth`, sign('alice'), IFRAME_ANSWERS_WITHIN_MS)
    t.strictSame(login, { ok: false, status: 0, error: 'cookie_not_stored' })
    const session = crossSite.seen.filter((entry) => entry.path === '/ws-auth/session')
    t.match(session, [{ method: 'POST', cookie: false }, { method: 'GET', cookie: false }], 'the check came back without the cookie')
    t.strictSame(await context.cookies(), [])
  })
})
