// The guard's discovery document (`GET /.well-known/wsauth`), over real TCP: what it lists for the guard's own
// transports, the path option and the switch, CORS, nothing secret, and a new transport describing itself.
import t from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import wsBearer, { DISCOVERY_PATH, PRECEDENCE } from '@wsauth/ws-bearer'
import type { DiscoveryDocument } from '@wsauth/core'
import { ALLOWED_ORIGIN, SECRET, build, refused, stillServes, type Fixture } from '../../../test/helpers/index.ts'
import { discoveryCloseCodes, discoveryErrors } from '../../../test/helpers/discovery.ts'

declare module '@wsauth/core' {
  interface Transports {
    /** This test's own transport. */
    'homing-pigeon': true
  }
  interface DiscoveryTransports {
    'homing-pigeon'?: { loft: string }
  }
}

const base = (fx: Fixture): string => `http://127.0.0.1:${fx.port}`

async function discovery (fx: Fixture, path = DISCOVERY_PATH): Promise<{ response: Response, document: DiscoveryDocument }> {
  const response = await fetch(base(fx) + path)
  return { response, document: await response.json() as DiscoveryDocument }
}

const route = (path: string, mode: 'http' | 'close', transports: object): object =>
  ({ path, mode, protocols: [], firstMessage: false, refresh: false, transports })

t.test('the guard alone: its guarded routes with the Authorization header, the close codes, no secrets', async (t) => {
  const fx = await build(t)
  const { response, document } = await discovery(fx)
  t.equal(response.status, 200)
  t.equal(response.headers.get('content-type'), 'application/json; charset=utf-8')
  t.equal(response.headers.get('cache-control'), 'no-cache')
  t.equal(response.headers.get('access-control-allow-origin'), '*', 'readable by pages on any origin')
  t.strictSame(document, {
    wsauth: 1,
    endpoints: {},
    closeCodes: discoveryCloseCodes(),
    routes: [
      route('/ws', 'http', { bearer: {} }),
      route('/identity', 'http', { bearer: {} }),
      route('/close-mode', 'close', { bearer: {} }),
    ],
  }, '/open (wsAuth: false) is not listed; no inBand without @wsauth/first-message')
  t.strictSame(discoveryErrors(document), [])
})

t.test('Basic, the query, close mode, route protocols and patterns; nothing secret in it', async (t) => {
  const fx = await build(t, {
    guard: {
      basic: { tokenUsername: 'jwt', verifyPassword: async () => null },
      query: { name: 'access_token' },
      origins: [ALLOWED_ORIGIN, 'https://app.example'],
      mode: 'close',
      realm: 'hidden-realm',
    },
    routes: (app) => {
      app.get('/rooms/:room', { websocket: true, config: { wsAuth: { mode: 'http', protocols: ['chat.v1', 'chat.v2'] } } }, () => {})
      app.get('/plain', () => 'not a websocket route')
      app.register(async (scoped) => {
        scoped.get('/live', { websocket: true }, () => {})
      }, { prefix: '/api' })
    },
  })
  const { document } = await discovery(fx)
  const transports = { bearer: {}, basic: { tokenUsername: 'jwt', password: true }, query: { param: 'access_token' } }
  t.strictSame(document.routes, [
    route('/ws', 'close', transports),
    route('/identity', 'close', transports),
    route('/close-mode', 'close', transports),
    { ...route('/rooms/:room', 'http', transports), protocols: ['chat.v1', 'chat.v2'] },
    route('/api/live', 'close', transports),
  ], 'the pattern as registered, the prefix included; plain routes are not listed')
  t.strictSame(discoveryErrors(document), [])
  const text = JSON.stringify(document)
  for (const secret of [ALLOWED_ORIGIN, 'app.example', SECRET, 'hidden-realm']) t.notOk(text.includes(secret), `no ${secret}`)

  const withoutPasswords = await build(t, { guard: { basic: true, origins: [ALLOWED_ORIGIN] } })
  t.strictSame((await discovery(withoutPasswords)).document.routes[0]!.transports,
    { bearer: {}, basic: { tokenUsername: 'token', password: false } }, 'Basic with tokens only')
})

t.test('discovery: { path } serves it elsewhere; discovery: false not at all', async (t) => {
  const moved = await build(t, { guard: { discovery: { path: '/meta/wsauth' } } })
  t.equal((await discovery(moved, '/meta/wsauth')).response.status, 200)
  t.equal((await fetch(base(moved) + DISCOVERY_PATH)).status, 404)
  const on = await build(t, { guard: { discovery: true } })
  t.equal((await discovery(on)).response.status, 200)
  const off = await build(t, { guard: { discovery: false } })
  t.equal((await fetch(base(off) + DISCOVERY_PATH)).status, 404)
  await stillServes(t, off)
})

t.test('the discovery option: a startup error naming it', async (t) => {
  const P = '@wsauth/ws-bearer: option'
  const cases: Array<[unknown, string]> = [
    ['on', `${P} "discovery" must be true, false or an options object`],
    [{ path: 'wsauth' }, `${P} "discovery.path" must be a path starting with "/" (no query, fragment or space)`],
    [{ path: '/wsauth?x' }, `${P} "discovery.path" must be a path starting with "/" (no query, fragment or space)`],
    [{ pth: '/x' }, `${P} "discovery.pth" is not an option of @wsauth/ws-bearer`],
  ]
  for (const [option, message] of cases) {
    const app = Fastify()
    await app.register(fastifyWebsocket)
    await t.rejects(async () => { await app.register(wsBearer, { discovery: option as never }) }, { name: 'WsAuthOptionsError', message }, message)
    await app.close()
  }
})

t.test('bad requests to the document: 404, and the server serves on', async (t) => {
  const fx = await build(t)
  const url = `ws://127.0.0.1:${fx.port}${DISCOVERY_PATH}`
  t.equal((await refused(url)).status, 404, 'an upgrade: nothing to upgrade to')
  t.equal((await fetch(base(fx) + DISCOVERY_PATH, { method: 'POST', body: '{}' })).status, 404, 'a POST')
  t.equal((await fetch(base(fx) + DISCOVERY_PATH, { method: 'HEAD' })).status, 200, 'HEAD, as for any GET route')
  t.equal((await discovery(fx)).response.status, 200)
  await stillServes(t, fx)
})

t.test('a new transport describes itself on each route; plugins add endpoints and default protocols', async (t) => {
  const fx = await build(t, {
    plugins: async (app) => {
      app.wsAuth.registerExtractor({
        transport: 'homing-pigeon',
        precedence: PRECEDENCE.query + 1,
        extract: () => null,
        // Only on routes that speak a protocol.
        describe: (described) => described.protocols.length === 0 ? null : { 'homing-pigeon': { loft: `/lofts${described.path}` } },
      })
      app.wsAuth.addDiscovery({ endpoints: { token: '/oauth/token' }, protocols: ['default.v1'] })
      app.wsAuth.addDiscovery({ endpoints: { revoke: '/oauth/revoke' } })
    },
    routes: (app) => {
      app.get('/bare', { websocket: true, config: { wsAuth: { protocols: [] } } }, () => {})
    },
  })
  const { document } = await discovery(fx)
  t.strictSame(document.endpoints, { token: '/oauth/token', revoke: '/oauth/revoke' })
  t.strictSame(document.routes.find((entry) => entry.path === '/ws'),
    { ...route('/ws', 'http', { bearer: {}, 'homing-pigeon': { loft: '/lofts/ws' } }), protocols: ['default.v1'] },
    'a route that declares no protocols takes the default')
  t.strictSame(document.routes.find((entry) => entry.path === '/bare'), route('/bare', 'http', { bearer: {} }),
    'an empty list of its own is kept, and the transport left itself out')
  t.strictSame(discoveryErrors(document), [], 'an unknown transport is allowed by the schema')
  t.throws(() => fx.app.wsAuth.addDiscovery({ endpoints: { ticket: '/late' } }), /addDiscovery after the server is ready/)
})

t.test('a describe that throws fails the startup, not a request', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  await app.register(wsBearer)
  app.wsAuth.registerExtractor({
    transport: 'homing-pigeon',
    precedence: 1,
    extract: () => null,
    describe: () => { throw new Error('no loft') },
  })
  app.get('/ws', { websocket: true }, () => {})
  await t.rejects(async () => { await app.ready() }, /no loft/)
})
