// Good handshakes over every built-in transport, the identity the route sees, precedence between transports, the
// challenges, route opt-out, and the guard's startup checks.
import t from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import wsBearer, { PRECEDENCE } from '@wsauth/ws-bearer'
import { WsAuthError, encodeBasic, type Identity } from '@wsauth/core'
import { closed, nextMessage, opened, rawHandshake, refused } from '../../../test/helpers/ws.ts'
import {
  BASIC_CHALLENGE, CHALLENGE, INVALID_TOKEN_CHALLENGE, SECRET, assertRefused, basic, bearer, build, logCollector, nowSeconds, stillServes,
} from '../../../test/helpers/index.ts'

const ORIGIN = 'http://localhost:8000'

async function identityOver (url: string, options?: Parameters<typeof opened>[1]): Promise<Identity> {
  const { socket } = await opened(url, options)
  const identity = JSON.parse(await nextMessage(socket)) as Identity
  const done = closed(socket)
  socket.close()
  await done
  return identity
}

t.test('success over every transport', async (t) => {
  const users = new Map([['alice', 'correct horse'], ['jürgen', 'pässwörd: ü'], ['bob', 'swordfish']])
  const now = Date.now()
  const fx = await build(t, {
    guard: {
      clock: () => now,
      query: true,
      origins: [ORIGIN],
      basic: {
        async verifyPassword (username, password) {
          return users.get(username) === password ? { subject: username, scopes: ['chat'] } : null
        },
      },
    },
  })

  t.test('Bearer: welcome, then echo', async (t) => {
    const { socket } = await opened(fx.url(), bearer(fx.sign({ sub: 'alice' })))
    t.equal(await nextMessage(socket), 'Welcome alice!')
    socket.send('hello')
    t.equal(await nextMessage(socket), 'You wrote: hello')
    socket.close()
  })

  t.test('Basic token:<jwt>, as URI user info', async (t) => {
    const token = fx.sign({ sub: 'alice' })
    // ws turns URI user info into `Authorization: Basic`, as a browser does after a Basic challenge.
    const { socket } = await opened(`ws://token:${token}@127.0.0.1:${fx.port}/ws`)
    t.equal(await nextMessage(socket), 'Welcome alice!')
    socket.close()
    const identity = await identityOver(fx.url('/identity'), basic(`token:${token}`))
    t.equal(identity.transport, 'basic')
    t.equal(identity.subject, 'alice')
  })

  t.test('Basic with a real username and password (verifyPassword)', async (t) => {
    const identity = await identityOver(fx.url('/identity'), basic('alice:correct horse'))
    t.strictSame(identity, { subject: 'alice', scopes: ['chat'], claims: {}, transport: 'basic', expiresAt: now + 900_000, tokenId: null },
      'a password login lives basic.lifetime (default 900 s) when the verifier gives no expiry')
    const utf8 = await identityOver(fx.url('/identity'), { headers: { Authorization: `Basic ${encodeBasic('jürgen', 'pässwörd: ü')}` } })
    t.equal(utf8.subject, 'jürgen', 'UTF-8 username and a password with a colon')
    const { socket } = await opened(`ws://bob:swordfish@127.0.0.1:${fx.port}/ws`)
    t.equal(await nextMessage(socket), 'Welcome bob!', 'as URI user info')
    socket.close()
  })

  t.test('Basic with a wrong password or an unknown user: 401 with both challenges', async (t) => {
    const before = fx.handled
    for (const raw of ['alice:wrong', 'alice:', 'mallory:correct horse', 'jürgen:pässwörd']) {
      assertRefused(t, await refused(fx.url(), basic(raw)), {
        status: 401,
        wwwAuthenticate: `${INVALID_TOKEN_CHALLENGE}, ${BASIC_CHALLENGE}`,
        body: { error: 'invalid_token', error_description: 'invalid username or password' },
      }, raw)
    }
    t.equal(fx.handled, before, 'the app never saw a refused socket')
    await stillServes(t, fx)
  })

  t.test('query ?token=', async (t) => {
    const identity = await identityOver(fx.url(`/identity?token=${fx.sign({ sub: 'alice' })}`))
    t.equal(identity.subject, 'alice')
    t.equal(identity.transport, 'query')
    const encodedName = await identityOver(fx.url(`/identity?x=1&%74oken=${fx.sign({ sub: 'bob' })}`))
    t.equal(encodedName.subject, 'bob', 'the parameter name is compared decoded')
  })

  t.test('with Basic on, a missing credential is challenged for both schemes', async (t) => {
    assertRefused(t, await refused(fx.url()), {
      status: 401,
      wwwAuthenticate: `${CHALLENGE}, ${BASIC_CHALLENGE}`,
      body: { error: 'unauthorized', error_description: 'no credentials' },
    })
    // Two separate header lines on the wire, so a browser finds its Basic challenge.
    const raw = await rawHandshake(fx.port, '/ws', [])
    t.equal(raw.status, 401)
    const lines = raw.head.split('\r\n').filter((line) => /^www-authenticate:/i.test(line))
    t.strictSame(lines.map((line) => line.replace(/^[^:]+: /, '')), [CHALLENGE, BASIC_CHALLENGE])
  })
})

t.test('the identity on request.identity', async (t) => {
  const fx = await build(t, { guard: { query: true } })
  const before = nowSeconds()
  const token = fx.sign({ sub: 'alice', scope: 'chat:read  chat:write', role: 'admin' }, { jti: 'token-1', expiresIn: 600 })
  const after = nowSeconds()
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }

  const identity = await identityOver(fx.url('/identity'), bearer(token))
  t.equal(identity.subject, 'alice')
  t.strictSame(identity.scopes, ['chat:read', 'chat:write'], 'scopes from `scope`, split on spaces')
  t.equal(identity.transport, 'bearer')
  t.equal(identity.expiresAt, exp * 1000, 'expiresAt in epoch milliseconds')
  t.ok(exp >= before + 600 && exp <= after + 600, 'exp is 600 s after signing')
  t.equal(identity.tokenId, 'token-1', 'tokenId from `jti`')
  t.match(identity.claims, { sub: 'alice', role: 'admin', jti: 'token-1', exp }, 'the verified claims')
  t.strictSame(Object.keys(identity).sort(), ['claims', 'expiresAt', 'scopes', 'subject', 'tokenId', 'transport'])

  const scp = await identityOver(fx.url('/identity'), bearer(fx.sign({ sub: 'bob', scp: ['a', 'b', 3] })))
  t.strictSame(scp.scopes, ['a', 'b'], 'scopes from an `scp` array, strings only')
  t.equal(scp.tokenId, null, 'no jti: null')
  t.equal(scp.expiresAt, null, 'no exp: null')

  const query = await identityOver(fx.url(`/identity?token=${token}`))
  t.equal(query.transport, 'query')
})

t.test('a token without sub: 401', async (t) => {
  const fx = await build(t)
  for (const payload of [{ name: 'alice' }, { sub: '' }, { sub: 42 }]) {
    assertRefused(t, await refused(fx.url(), bearer(fx.sign(payload))), {
      status: 401,
      wwwAuthenticate: INVALID_TOKEN_CHALLENGE,
      body: { error: 'invalid_token', error_description: 'token has no subject' },
    }, JSON.stringify(payload))
  }
  await stillServes(t, fx)
})

t.test('precedence: the Authorization header wins over the query', async (t) => {
  const fx = await build(t, { guard: { query: true } })
  t.ok(PRECEDENCE.authorization < PRECEDENCE.query)
  const good = fx.sign({ sub: 'alice' })

  const identity = await identityOver(fx.url('/identity?token=not-a-token'), bearer(good))
  t.equal(identity.subject, 'alice', 'a valid header wins over a bad query token')
  t.equal(identity.transport, 'bearer')

  // The header is chosen before verification: a bad one is not rescued by a good query token.
  assertRefused(t, await refused(fx.url(`/ws?token=${good}`), bearer('not-a-token')),
    { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE }, 'a bad header with a good query token')
  assertRefused(t, await refused(fx.url(`/ws?token=${good}`), { headers: { Authorization: 'Bearer' } }),
    { status: 400 }, 'a malformed header with a good query token')

  // A header of another scheme carries nothing, so the query token is used.
  const fallback = await identityOver(fx.url(`/identity?token=${good}`), { headers: { Authorization: 'Digest username="x"' } })
  t.equal(fallback.transport, 'query')
  await stillServes(t, fx)
})

t.test('query tokens are off unless asked for; the parameter name is configurable', async (t) => {
  const off = await build(t)
  assertRefused(t, await refused(off.url(`/ws?token=${off.sign({ sub: 'alice' })}`)), { status: 401, wwwAuthenticate: CHALLENGE })
  await stillServes(t, off)

  const named = await build(t, { guard: { query: { name: 'access_token' } } })
  const token = named.sign({ sub: 'alice' })
  t.equal((await identityOver(named.url(`/identity?access_token=${token}`))).transport, 'query')
  assertRefused(t, await refused(named.url(`/ws?token=${token}`)), { status: 401 }, 'the default name is not read')
  assertRefused(t, await refused(named.url('/ws?access_token=a&access_token=b')), { status: 400 })
})

t.test('realm and credential length cap are configurable', async (t) => {
  const fx = await build(t, { guard: { realm: 'chat "eu"', maxCredentialLength: 400 } })
  assertRefused(t, await refused(fx.url()), { status: 401, wwwAuthenticate: 'Bearer realm="chat \\"eu\\""' })
  assertRefused(t, await refused(fx.url(), bearer('a'.repeat(400))),
    { status: 401, body: { error: 'invalid_token', error_description: 'invalid token' } }, 'at the cap: verified (and invalid)')
  assertRefused(t, await refused(fx.url(), bearer('a'.repeat(401))),
    { status: 400, body: { error: 'invalid_request', error_description: 'credential too long' } }, 'one over the cap')
  const long = fx.sign({ sub: 'alice', padding: 'x'.repeat(400) })
  assertRefused(t, await refused(fx.url(), bearer(long)), { status: 400 }, 'a valid JWT over the cap')
  await stillServes(t, fx)
})

t.test('route opt-out: config { wsAuth: false } opens without credentials', async (t) => {
  const fx = await build(t, { guard: { query: true } })
  const { socket } = await opened(fx.url('/open'))
  t.equal(await nextMessage(socket), 'null', 'request.identity is null on an opted-out route')
  socket.close()
  // Credentials on an opted-out route are not even looked at: a malformed header does not matter there.
  const withJunk = await opened(fx.url('/open?token=a&token=b'), { headers: { Authorization: 'Bearer' } })
  t.equal(await nextMessage(withJunk.socket), 'null')
  withJunk.socket.close()
  t.equal(fx.app.wsAuth.connectionCount(), 0, 'opted-out sockets are not tracked')
  assertRefused(t, await refused(fx.url()), { status: 401 }, 'the guarded route next to it still refuses')
})

t.test('plain HTTP routes are not guarded', async (t) => {
  const fx = await build(t, { routes: (app) => app.get('/health', async () => ({ ok: true })) })
  const response = await fetch(`http://127.0.0.1:${fx.port}/health`)
  t.equal(response.status, 200)
  t.strictSame(await response.json(), { ok: true })
})

t.test('startup checks', async (t) => {
  async function start (register: (app: ReturnType<typeof Fastify>) => Promise<unknown>): Promise<unknown> {
    const app = Fastify()
    t.teardown(() => app.close())
    try {
      await register(app)
      await app.ready()
      return null
    } catch (error) {
      return error
    }
  }

  t.match(await start(async (app) => {
    await app.register(fastifyJwt, { secret: SECRET })
    await app.register(fastifyWebsocket)
    await app.register(wsBearer, { basic: true })
  }), { message: /Basic credentials are sent by browsers on their own; set `origins`/ }, 'basic: true without origins')

  t.match(await start(async (app) => {
    await app.register(fastifyJwt, { secret: SECRET })
    await app.register(fastifyWebsocket)
    await app.register(wsBearer, { basic: { verifyPassword: async () => null }, origins: [] })
  }), { message: /set `origins`/ }, 'basic with an empty allowlist')

  for (const entry of ['*', 'null', 'https://*.example.com', 'https://app.example.com/path']) {
    t.match(await start(async (app) => {
      await app.register(fastifyJwt, { secret: SECRET })
      await app.register(fastifyWebsocket)
      await app.register(wsBearer, { origins: [entry] })
    }), { name: 'WsAuthOptionsError', message: `@wsauth/ws-bearer: option "origins" must list origins (scheme://host[:port]), not ${JSON.stringify(entry)}` }, `origins: [${entry}]`)
  }

  t.match(await start(async (app) => {
    await app.register(fastifyWebsocket)
    await app.register(wsBearer, {})
  }), { message: /register @fastify\/jwt before the guard, or pass a `verify` function/ }, 'no @fastify/jwt and no verify')

  t.match(await start(async (app) => {
    await app.register(fastifyJwt, { secret: SECRET })
    await app.register(fastifyWebsocket)
    await app.register(wsBearer, { jwtNamespace: 'ws' })
  }), { message: /no @fastify\/jwt namespace "ws"/ }, 'an unknown jwt namespace')

  t.match(await start(async (app) => {
    await app.register(fastifyJwt, { secret: SECRET })
    await app.register(wsBearer, {})
  }), { message: /@fastify\/websocket/ }, 'without @fastify/websocket')

  t.equal(await start(async (app) => {
    await app.register(fastifyJwt, { secret: SECRET })
    await app.register(fastifyWebsocket)
    await app.register(wsBearer, { basic: true, origins: [ORIGIN] })
  }), null, 'basic with an allowlist starts')
})

t.test('a websocket route registered before the guard fails closed with 1011 and an error line', async (t) => {
  const { stream, lines } = logCollector()
  const app = Fastify({ logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  let handled = 0
  app.get('/early', { websocket: true }, (socket) => { handled++; socket.send('unguarded!') })
  await app.register(wsBearer, {})
  app.get('/late', { websocket: true }, (socket) => { handled++; socket.send('guarded') })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }

  const { socket } = await opened(`ws://127.0.0.1:${port}/early`)
  t.strictSame(await closed(socket), { code: 1011, reason: 'internal error' })
  t.equal(handled, 0, 'the unguarded handler never ran')
  const errors = lines.map((line) => JSON.parse(line) as { level: number, msg: string }).filter((line) => line.level >= 50)
  t.match(errors, [{ msg: /websocket route is not covered by @wsauth\/ws-bearer/ }], 'one error line: a real misconfiguration')
  const late = await opened(`ws://127.0.0.1:${port}/late`, bearer((app as unknown as { jwt: { sign (p: object): string } }).jwt.sign({ sub: 'a' })))
  t.equal(await nextMessage(late.socket), 'guarded')
  late.socket.close()
})

t.test('injectWS: a quick unit check of refusal and upgrade', async (t) => {
  const fx = await build(t)
  await t.rejects(fx.app.injectWS('/ws'), { message: 'Unexpected server response: 401' })
  await t.rejects(fx.app.injectWS('/ws', { headers: { authorization: 'Bearer' } }), { message: 'Unexpected server response: 400' })
  let welcome: Promise<string> | undefined
  const socket = await fx.app.injectWS('/ws', { headers: { authorization: `Bearer ${fx.sign({ sub: 'alice' })}` } }, {
    onInit: (ws) => { welcome = new Promise((resolve) => ws.once('message', (data) => resolve(String(data)))) },
  })
  t.equal(await welcome, 'Welcome alice!')
  socket.terminate()
})

t.test('registerExtractor: a transport added by another package', async (t) => {
  const ORIGINS = [ORIGIN]
  const fx = await build(t, { guard: { query: true, origins: ORIGINS } })
  // Stands in for a cookie extractor: ambient, so it needs the allowlist and an Origin header.
  fx.app.wsAuth.registerExtractor({
    transport: 'cookie',
    precedence: PRECEDENCE.cookie,
    ambient: true,
    requireOrigin: true,
    extract (request) {
      const value = request.headers['x-test-cookie']
      if (value === undefined) return null
      if (value === 'bad') throw new WsAuthError('malformed', 'bad cookie')
      return { kind: 'token', transport: 'cookie', token: String(value) }
    },
  })
  const token = fx.sign({ sub: 'alice' })
  const other = fx.sign({ sub: 'bob' })

  const viaCookie = await identityOver(fx.url('/identity'), { headers: { 'x-test-cookie': token }, origin: ORIGIN })
  t.equal(viaCookie.transport, 'cookie')
  assertRefused(t, await refused(fx.url(), { headers: { 'x-test-cookie': token } }), {
    status: 403, wwwAuthenticate: null, body: { error: 'forbidden', error_description: 'origin required' },
  }, 'an ambient credential without an Origin header')
  assertRefused(t, await refused(fx.url(), { headers: { 'x-test-cookie': 'bad' }, origin: ORIGIN }), {
    status: 400, body: { error: 'invalid_request', error_description: 'bad cookie' },
  }, 'the extractor says malformed')

  const headerFirst = await identityOver(fx.url('/identity'), { headers: { 'x-test-cookie': other, Authorization: `Bearer ${token}` } })
  t.match(headerFirst, { subject: 'alice', transport: 'bearer' }, 'Authorization (100) runs before cookie (300)')
  const cookieFirst = await identityOver(fx.url(`/identity?token=${other}`), { headers: { 'x-test-cookie': token }, origin: ORIGIN })
  t.match(cookieFirst, { subject: 'alice', transport: 'cookie' }, 'cookie (300) runs before query (400)')
  const queryWithoutOrigin = await identityOver(fx.url(`/identity?token=${token}`))
  t.equal(queryWithoutOrigin.transport, 'query', 'requireOrigin is per transport: the query still needs none')

  t.throws(() => fx.app.wsAuth.registerExtractor({ transport: 'cookie', precedence: 1, extract: () => null }),
    { message: /a cookie extractor is already registered/ })
  t.throws(() => fx.app.wsAuth.registerExtractor({ transport: 'query', precedence: 1, extract: () => null }),
    { message: /a query extractor is already registered/ })

  const noOrigins = await build(t)
  t.throws(() => noOrigins.app.wsAuth.registerExtractor({ transport: 'cookie', precedence: 300, ambient: true, extract: () => null }),
    { message: /the cookie transport is ambient; set `origins`/ })
  await stillServes(t, fx)
})
