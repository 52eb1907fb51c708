import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import { MemoryFailureCounter } from '@wsauth/core'
import wsBearer from '@wsauth/ws-bearer'
import passwordBearer, {
  MemoryRefreshTokenStore, MemoryUserStore, type PasswordBearerOptions, type UserStore,
} from '@wsauth/password-bearer'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.js'
import { ALICE, FAST_SCRYPT, JWT_SECRET, bearer, claimsOf, login, postForm, postJson, postRaw, startServer, stillServes, type Test } from './fixture.js'

async function users (): Promise<MemoryUserStore> {
  const store = new MemoryUserStore({ scrypt: FAST_SCRYPT })
  await store.add(ALICE.username, ALICE.password, { scopes: ALICE.scopes })
  return store
}

/** An app with the three plugins this one needs, not listening: for `inject` checks. */
async function app (t: Test, options: Partial<PasswordBearerOptions> = {}): Promise<FastifyInstance> {
  const fastify = Fastify()
  t.teardown(() => fastify.close())
  await fastify.register(fastifyJwt, { secret: JWT_SECRET })
  await fastify.register(websocket)
  await fastify.register(wsBearer)
  await fastify.register(passwordBearer, { users: await users(), scrypt: FAST_SCRYPT, ...options })
  await fastify.ready()
  return fastify
}

t.test('the plugin needs @fastify/jwt and the guard', async (t) => {
  const withoutJwt = Fastify()
  await withoutJwt.register(websocket)
  await withoutJwt.register(wsBearer, { verify: () => null })
  withoutJwt.register(passwordBearer, { users: await users() })
  await t.rejects(async () => { await withoutJwt.ready() }, /@fastify\/jwt/)

  const withoutGuard = Fastify()
  await withoutGuard.register(fastifyJwt, { secret: JWT_SECRET })
  withoutGuard.register(passwordBearer, { users: await users() })
  await t.rejects(async () => { await withoutGuard.ready() }, /@wsauth\/ws-bearer/)
})

t.test('options are checked at startup: each error names the option', async (t) => {
  const store = await users()
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ users: undefined }, 'option "users" is required: a UserStore (an object with findByUsername)'],
    [{ users: {} }, 'option "users" must be a UserStore (an object with findByUsername)'],
    [{ refreshTokenTTL: 60 }, 'option "refreshTokenTTL" is not an option of @wsauth/password-bearer'],
    [{ accessTokenTtl: 0 }, 'option "accessTokenTtl" must be an integer >= 1; got 0'],
    [{ accessTokenTtl: '120' }, 'option "accessTokenTtl" must be an integer >= 1; got a string'],
    [{ accessTokenTtl: 1.5 }, 'option "accessTokenTtl" must be an integer >= 1; got 1.5'],
    [{ refreshTokenTtl: -1 }, 'option "refreshTokenTtl" must be an integer >= 1; got -1'],
    [{ bodyLimit: Infinity }, 'option "bodyLimit" must be an integer >= 1; got Infinity'],
    [{ accessTokensPerFamily: 0 }, 'option "accessTokensPerFamily" must be an integer from 1 to 1000; got 0'],
    [{ accessTokensPerFamily: 1001 }, 'option "accessTokensPerFamily" must be an integer from 1 to 1000; got 1001'],
    [{ tokenPath: 'token' }, 'option "tokenPath" must be a path starting with "/" (no query, fragment or space)'],
    [{ revokePath: 7 }, 'option "revokePath" must be a non-empty string; got 7'],
    [{ tokenPath: '/oauth', revokePath: '/oauth' }, 'option "revokePath" must differ from tokenPath'],
    [{ realm: '' }, 'option "realm" must be a non-empty string; got a string'],
    [{ jwtNamespace: 5 }, 'option "jwtNamespace" must be a non-empty string; got 5'],
    [{ clock: 1700000000000 }, 'option "clock" must be a function; got 1700000000000'],
    [{ clients: {} }, 'option "clients" must be an array of { id, secret? }'],
    [{ clients: 'web' }, 'option "clients" must be an array of { id, secret? }'],
    [{ clients: [{ id: '' }] }, 'option "clients" has a client whose id is not a non-empty string'],
    [{ clients: [null] }, 'option "clients" has a client whose id is not a non-empty string'],
    [{ clients: [{ id: 'a' }, { id: 'a', secret: 'x' }] }, 'option "clients" lists client "a" twice'],
    [{ clients: [{ id: 'a', secret: '' }] }, 'option "clients" gives client "a" a secret that is not a non-empty string'],
    [{ refreshTokens: { find () {}, markUsed () {}, save () {}, deleteFamily () {} } },
      'option "refreshTokens" must be a RefreshTokenStore (an object with create, find, rotate, delete)'],
    [{ refreshTokens: null }, 'option "refreshTokens" must be a RefreshTokenStore (an object with create, find, rotate, delete)'],
    [{ throttle: 'strict' }, 'option "throttle" must be an object; got a string'],
    [{ throttle: { refresh: {} } }, 'option "throttle.refresh" is not an option of @wsauth/password-bearer'],
    [{ throttle: { refreshIp: {} } }, 'option "throttle.refreshIp" must be a FailureCounter (an object with attempt, forgive, reset)'],
    [{ scrypt: { N: 1000, r: 8, p: 1 } }, 'option "scrypt.N" must be a power of two from 2 to 2^20'],
    [{ scrypt: { N: 1024, r: 8 } }, 'option "scrypt.p" must be an integer from 1 to 16'],
    [{ scrypt: { N: 1024, r: 64, p: 1 } }, 'option "scrypt.r" must be an integer from 1 to 32'],
    [{ scrypt: { N: 1024, r: 8, p: 1, salt: 'x' } }, 'option "scrypt.salt" is not an option of @wsauth/password-bearer'],
  ]
  for (const [options, message] of bad) {
    const fastify = Fastify()
    await fastify.register(fastifyJwt, { secret: JWT_SECRET })
    await fastify.register(websocket)
    await fastify.register(wsBearer)
    fastify.register(passwordBearer, { users: store, scrypt: FAST_SCRYPT, ...options } as unknown as PasswordBearerOptions)
    await t.rejects(async () => { await fastify.ready() }, { code: 'ERR_WSAUTH_OPTIONS', message: `@wsauth/password-bearer: ${message}` }, message)
  }

  const namespaced = Fastify()
  await namespaced.register(fastifyJwt, { secret: JWT_SECRET, namespace: 'ws' })
  await namespaced.register(websocket)
  await namespaced.register(wsBearer, { jwtNamespace: 'ws' })
  namespaced.register(passwordBearer, { users: store, scrypt: FAST_SCRYPT })
  await t.rejects(async () => { await namespaced.ready() }, /set `jwtNamespace`/, 'a namespaced @fastify/jwt without jwtNamespace')
  const unknownNamespace = Fastify()
  await unknownNamespace.register(fastifyJwt, { secret: JWT_SECRET })
  await unknownNamespace.register(websocket)
  await unknownNamespace.register(wsBearer)
  unknownNamespace.register(passwordBearer, { users: store, scrypt: FAST_SCRYPT, jwtNamespace: 'nope' })
  await t.rejects(async () => { await unknownNamespace.ready() }, /namespace "nope"/, 'an unknown jwt namespace')

  const good = await app(t, {
    clients: [{ id: 'web' }, { id: 'backend', secret: 'backend secret' }],
    throttle: { username: new MemoryFailureCounter({ limit: 3, windowMs: 1000 }) },
    accessTokensPerFamily: 1000,
    realm: 'chat',
    logLevel: 'warn',
  } as Partial<PasswordBearerOptions>)
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const body = new URLSearchParams({ grant_type: 'password', username: ALICE.username, password: ALICE.password, client_id: 'web' }).toString()
  t.equal((await good.inject({ method: 'POST', url: '/token', headers: form, body })).statusCode, 200,
    'good options, with Fastify\'s own register options beside them, serve')
})

t.test('paths, lifetimes and body limit are configurable', async (t) => {
  const refreshTokens = new MemoryRefreshTokenStore()
  const fastify = await app(t, {
    tokenPath: '/oauth/token', revokePath: '/oauth/revoke', accessTokenTtl: 60, refreshTokenTtl: 3600, bodyLimit: 512, refreshTokens,
  })
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const body = new URLSearchParams({ grant_type: 'password', username: ALICE.username, password: ALICE.password }).toString()
  t.equal((await fastify.inject({ method: 'POST', url: '/token', headers: form, body })).statusCode, 404, 'the default path is gone')
  const before = Date.now()
  const response = await fastify.inject({ method: 'POST', url: '/oauth/token', headers: form, body })
  t.equal(response.statusCode, 200)
  const tokens = response.json()
  t.equal(tokens.expires_in, 60)
  const claims = fastify.jwt.verify<{ iat: number, exp: number, jti: string }>(tokens.access_token)
  t.equal(claims.exp - claims.iat, 60, 'exp is 60 seconds after iat: a number of seconds was passed to @fastify/jwt')
  const stored = await refreshTokens.find(tokens.refresh_token.split('.')[0])
  t.ok(stored!.expiresAt >= before + 3600_000 && stored!.expiresAt <= Date.now() + 3600_000, 'the refresh token lives an hour')

  const tooLarge = await fastify.inject({ method: 'POST', url: '/oauth/token', headers: form, body: `${body}&pad=${'x'.repeat(600)}` })
  t.equal(tooLarge.statusCode, 413)
  const revoked = await fastify.inject({ method: 'POST', url: '/oauth/revoke', headers: form, body: `token=${tokens.access_token}` })
  t.equal(revoked.statusCode, 200)
  t.equal(await fastify.wsAuth.denyList.has(claims.jti), true)
})

t.test('the app\'s @fastify/jwt sign defaults are kept; the lifetime is ours', async (t) => {
  const fastify = Fastify()
  t.teardown(() => fastify.close())
  await fastify.register(fastifyJwt, { secret: JWT_SECRET, sign: { iss: 'wsauth-test', expiresIn: 5 }, verify: { allowedIss: 'wsauth-test' } })
  await fastify.register(websocket)
  await fastify.register(wsBearer)
  await fastify.register(passwordBearer, { users: await users(), scrypt: FAST_SCRYPT })
  const response = await fastify.inject({
    method: 'POST',
    url: '/token',
    payload: { grant_type: 'password', username: ALICE.username, password: ALICE.password },
  })
  const claims = fastify.jwt.verify<{ iss: string, iat: number, exp: number }>(response.json().access_token)
  t.equal(claims.iss, 'wsauth-test')
  t.equal(claims.exp - claims.iat, 900, 'accessTokenTtl wins over the app\'s default expiresIn')
})

t.test('the app keeps its own content-type parsers and error handler', async (t) => {
  const fastify = Fastify()
  t.teardown(() => fastify.close())
  // An app with an unusual JSON parser and a text parser of its own.
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => done(null, { wrapped: text }))
  fastify.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, text, done) => done(null, `text:${String(text)}`))
  fastify.setErrorHandler((_error, _request, reply) => reply.code(418).send('app error handler'))
  await fastify.register(fastifyJwt, { secret: JWT_SECRET })
  await fastify.register(websocket)
  await fastify.register(wsBearer)
  await fastify.register(passwordBearer, { users: await users(), scrypt: FAST_SCRYPT })
  fastify.post('/echo', async (request) => ({ body: request.body }))
  fastify.get('/boom', async () => { throw new Error('boom') })
  await fastify.ready()

  const json = await fastify.inject({ method: 'POST', url: '/echo', payload: '{"a":1}', headers: { 'content-type': 'application/json' } })
  t.same(json.json(), { body: { wrapped: '{"a":1}' } }, 'the app\'s JSON parser')
  const text = await fastify.inject({ method: 'POST', url: '/echo', payload: 'hi', headers: { 'content-type': 'text/plain' } })
  t.same(text.json(), { body: 'text:hi' }, 'the app\'s text parser')
  const form = await fastify.inject({ method: 'POST', url: '/echo', payload: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(form.statusCode, 418, 'no form parser leaked into the app: its error handler answers the 415')
  t.equal((await fastify.inject({ method: 'GET', url: '/boom' })).body, 'app error handler')

  const token = await fastify.inject({
    method: 'POST',
    url: '/token',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ grant_type: 'password', username: ALICE.username, password: ALICE.password }),
  })
  t.equal(token.statusCode, 200, 'the token route parses JSON its own way')
  const textToken = await fastify.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'text/plain' }, payload: 'grant_type=password' })
  t.equal(textToken.statusCode, 415, 'and accepts neither the app\'s text')
  t.equal(textToken.json().error, 'invalid_request')
})

t.test('a @fastify/jwt namespace', async (t) => {
  const fastify = Fastify()
  t.teardown(() => fastify.close())
  await fastify.register(fastifyJwt, { secret: JWT_SECRET, namespace: 'ws' })
  await fastify.register(websocket)
  await fastify.register(wsBearer, { jwtNamespace: 'ws' })
  await fastify.register(passwordBearer, { users: await users(), scrypt: FAST_SCRYPT, jwtNamespace: 'ws' })
  fastify.get('/ws', { websocket: true }, (socket, request) => socket.send(request.identity!.subject))
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  const { port } = fastify.server.address() as { port: number }
  const tokens = (await postForm(`http://127.0.0.1:${port}/token`, { grant_type: 'password', username: ALICE.username, password: ALICE.password })).json
  const { socket } = await opened(`ws://127.0.0.1:${port}/ws`, bearer(tokens.access_token))
  t.equal(await nextMessage(socket), 'alice')
  const socketClosed = closed(socket)
  t.equal((await postForm(`http://127.0.0.1:${port}/revoke`, { token: tokens.access_token })).status, 200)
  t.equal((await socketClosed).code, 4401, 'revocation verifies with the namespace too')
})

t.test('fastify.passwordBearer.issueTokens', async (t) => {
  const server = await startServer(t, { clients: [{ id: 'cli', secret: 'secret' }] })
  const tokens = await server.app.passwordBearer.issueTokens('alice', ['chat:read', 'chat:read'])
  t.match(tokens, { token_type: 'Bearer', expires_in: 900, scope: 'chat:read' })
  t.match(claimsOf(server, tokens.access_token), { sub: 'alice', scope: 'chat:read' })
  t.notOk('client_id' in claimsOf(server, tokens.access_token))
  const { socket } = await opened(server.wsUrl, bearer(tokens.access_token))
  t.same(JSON.parse(await nextMessage(socket)), { subject: 'alice', scopes: ['chat:read'] })
  socket.terminate()

  const forClient = await server.app.passwordBearer.issueTokens('alice', [], { clientId: 'cli' })
  t.notOk('scope' in forClient)
  t.equal(claimsOf(server, forClient.access_token).client_id, 'cli')
  const refreshed = await postForm(`${server.base}/token`, {
    grant_type: 'refresh_token', refresh_token: forClient.refresh_token, client_id: 'cli', client_secret: 'secret',
  })
  t.equal(refreshed.status, 200, 'its refresh token works for its client')

  const stranger = await server.app.passwordBearer.issueTokens('not-a-user', [], { clientId: 'cli' })
  const strangerRefresh = await postForm(`${server.base}/token`, {
    grant_type: 'refresh_token', refresh_token: stranger.refresh_token, client_id: 'cli', client_secret: 'secret',
  })
  t.equal(strangerRefresh.json.error, 'invalid_grant', 'a subject unknown to the store cannot refresh')

  await t.rejects(server.app.passwordBearer.issueTokens('', []), TypeError)
  await t.rejects(server.app.passwordBearer.issueTokens('alice', ['has space']), TypeError)
  await t.rejects(server.app.passwordBearer.issueTokens('alice', 'chat:read' as unknown as string[]), TypeError)
  await t.rejects(server.app.passwordBearer.issueTokens('alice', [], { clientId: 'nobody' }), TypeError)
})

t.test('fastify.passwordBearer.revokeFamilyOf', async (t) => {
  const server = await startServer(t)
  const tokens = await login(server)
  const { socket } = await opened(server.wsUrl, bearer(tokens.access_token))
  await nextMessage(socket)
  const socketClosed = closed(socket)
  t.equal(await server.app.passwordBearer.revokeFamilyOf(tokens.refresh_token), true)
  t.same(await socketClosed, { code: 4401, reason: 'token revoked' })
  t.equal(await server.app.passwordBearer.revokeFamilyOf(tokens.refresh_token), false, 'already gone')
  t.equal(await server.app.passwordBearer.revokeFamilyOf('unknown'), false)
})

t.test('fastify.passwordBearer.authenticateUser as the guard\'s Basic verifier', async (t) => {
  const server = await startServer(t, {}, {
    guard: {
      origins: ['https://app.example'],
      basic: { verifyPassword: (username, password, request) => server.app.passwordBearer.authenticateUser(username, password, request) },
    },
  })
  const url = (username: string, password: string): string => server.wsUrl.replace('ws://', `ws://${username}:${encodeURIComponent(password)}@`)
  const { socket } = await opened(url(ALICE.username, ALICE.password))
  t.same(JSON.parse(await nextMessage(socket)), { subject: 'alice', scopes: ALICE.scopes }, 'a user from the store, with their scopes')
  socket.terminate()

  for (let i = 0; i < 4; i++) t.equal((await refused(url(ALICE.username, 'wrong'))).status, 401)
  t.equal((await refused(url('mallory', 'wrong'))).status, 401, 'an unknown user: the same refusal')
  t.equal((await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: 'wrong' })).status, 400)
  const throttled = await refused(url(ALICE.username, ALICE.password))
  t.equal(throttled.status, 429, 'handshakes and the token endpoint share one throttle')
  t.ok(Number(throttled.headers['retry-after']) > 0)
  t.equal((await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: ALICE.password })).status, 429)

  await server.users.add('disabled', 'pw', { disabled: true })
  t.equal(await server.app.passwordBearer.authenticateUser('disabled', 'pw', { ip: '192.0.2.9' } as never), null, 'a disabled user')
})

t.test('a user store that fails: 503; a corrupt stored hash: 500 (a bug, not the client\'s doing)', async (t) => {
  const inner = await users()
  let failure: 'down' | 'corrupt' | null = 'down'
  const flaky: UserStore = {
    async findByUsername (username) {
      if (failure === 'down') throw new Error('database is down')
      const user = await inner.findByUsername(username)
      return failure === 'corrupt' && user !== null ? { ...user, passwordHash: 'md5$abc' } : user
    },
  }
  const server = await startServer(t, { users: flaky })
  const down = await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: ALICE.password })
  t.equal(down.status, 503)
  t.same(down.json, { error: 'temporarily_unavailable', error_description: 'try again later' })
  failure = 'corrupt'
  const corrupt = await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: ALICE.password })
  t.equal(corrupt.status, 500)
  t.same(corrupt.json, { error: 'server_error', error_description: 'internal error' })
  t.notMatch(corrupt.text, 'md5', 'nothing of the cause in the answer')
  t.match(server.logs.join(''), 'not an encoded scrypt hash', 'the cause is logged')
  failure = null
  await stillServes(t, server)
  t.equal((await postJson(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: ALICE.password })).status, 200)
  t.equal((await postRaw(`${server.base}/token`, 'grant_type=password', { 'content-type': 'application/x-www-form-urlencoded' })).status, 400)
})

t.test('a user store whose records carry no scopes', async (t) => {
  const inner = await users()
  const withoutScopes: UserStore = {
    async findByUsername (username) {
      const user = await inner.findByUsername(username)
      return user === null ? null : { username: user.username, passwordHash: user.passwordHash }
    },
  }
  const server = await startServer(t, { users: withoutScopes })
  const tokens = await login(server)
  t.notOk('scope' in tokens, 'no scopes granted')
  const refreshed = await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
  t.equal(refreshed.status, 200)
  t.notOk('scope' in refreshed.json)
  const before = Date.now()
  const identity = await server.app.passwordBearer.authenticateUser(ALICE.username, ALICE.password, { ip: '192.0.2.9' } as never)
  const after = Date.now()
  t.match(identity, { subject: 'alice', scopes: [], tokenId: null })
  // The access-token lifetime (900 s by default), from the moment of the check: bounds, not a margin of time.
  t.ok(identity!.expiresAt! >= before + 900_000 && identity!.expiresAt! <= after + 900_000, 'a password login lives as long as an access token')
})
