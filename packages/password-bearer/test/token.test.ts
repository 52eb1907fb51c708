import t from 'tap'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.js'
import {
  ALICE, bearer, claimsOf, login, postForm, postJson, postRaw, startServer, stillServes, type Answer, type Test,
} from './fixture.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/

function assertNoStore (t: Test, result: Answer): void {
  t.equal(result.headers.get('cache-control'), 'no-store')
  t.equal(result.headers.get('pragma'), 'no-cache')
}

function assertError (t: Test, result: Answer, status: number, error: string): void {
  t.equal(result.status, status, `${status} ${error}`)
  t.equal(result.json?.error, error)
  t.type(result.json?.error_description, 'string')
  t.same(Object.keys(result.json ?? {}).sort(), ['error', 'error_description'], 'nothing but error and error_description')
  t.match(result.headers.get('content-type'), /^application\/json/)
  assertNoStore(t, result)
}

t.test('password grant, form-encoded: every field and header', async (t) => {
  const server = await startServer(t)
  const result = await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: ALICE.password })
  t.equal(result.status, 200)
  t.match(result.headers.get('content-type'), /^application\/json/)
  assertNoStore(t, result)
  t.same(Object.keys(result.json).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.equal(result.json.token_type, 'Bearer')
  t.equal(result.json.expires_in, 900, 'the default lifetime, in seconds')
  t.equal(result.json.scope, 'chat:read chat:write', 'no scope asked: the user\'s scopes')
  t.match(result.json.refresh_token, REFRESH_TOKEN, 'a family id and a secret, 16 and 32 random bytes, base64url')

  const claims = claimsOf(server, result.json.access_token)
  t.equal(claims.sub, 'alice')
  t.equal(claims.scope, 'chat:read chat:write')
  t.match(claims.jti, UUID)
  t.type(claims.iat, 'number')
  t.equal(claims.exp, (claims.iat as number) + 900, 'exp is iat + 900 seconds')
  t.notOk('client_id' in claims, 'no client without client authentication')

  const again = await login(server)
  t.not(claimsOf(server, again.access_token).jti, claims.jti, 'a fresh jti per token')
  t.not(again.refresh_token, result.json.refresh_token)
})

t.test('password grant, JSON, with a scope', async (t) => {
  const server = await startServer(t)
  const result = await postJson(`${server.base}/token`, {
    grant_type: 'password', username: ALICE.username, password: ALICE.password, scope: 'chat:read',
  })
  t.equal(result.status, 200)
  assertNoStore(t, result)
  t.match(result.json, { token_type: 'Bearer', expires_in: 900, scope: 'chat:read', refresh_token: REFRESH_TOKEN })
  t.equal(claimsOf(server, result.json.access_token).scope, 'chat:read')

  const charset = await postRaw(`${server.base}/token`, JSON.stringify({ grant_type: 'password', username: ALICE.username, password: ALICE.password }), {
    'content-type': 'application/json; charset=utf-8',
  })
  t.equal(charset.status, 200, 'a charset parameter is fine')
  const duplicate = await postJson(`${server.base}/token`, {
    grant_type: 'password', username: ALICE.username, password: ALICE.password, scope: 'chat:write chat:write',
  })
  t.equal(duplicate.json.scope, 'chat:write', 'a scope asked twice is granted once')
  const unknownParams = await postJson(`${server.base}/token`, {
    grant_type: 'password', username: ALICE.username, password: ALICE.password, extra: [1, 2], nested: { a: 1 },
  })
  t.equal(unknownParams.status, 200, 'unknown parameters are ignored (RFC 6749 §3.2)')
})

t.test('the access token opens the guarded websocket', async (t) => {
  const server = await startServer(t)
  const tokens = await login(server, { scope: 'chat:read' })
  const { socket } = await opened(server.wsUrl, bearer(tokens.access_token))
  t.same(JSON.parse(await nextMessage(socket)), { subject: 'alice', scopes: ['chat:read'] })
  socket.send('hi')
  t.equal(await nextMessage(socket), 'echo: hi')
  const done = closed(socket)
  socket.close(1000)
  t.equal((await done).code, 1000)
})

t.test('a user without scopes gets no scope', async (t) => {
  const server = await startServer(t)
  await server.users.add('bob', 'hunter2')
  const result = await postForm(`${server.base}/token`, { grant_type: 'password', username: 'bob', password: 'hunter2' })
  t.equal(result.status, 200)
  t.notOk('scope' in result.json, 'the response leaves out an empty scope')
  t.equal(claimsOf(server, result.json.access_token).scope, '')
  const { socket } = await opened(server.wsUrl, bearer(result.json.access_token))
  t.same(JSON.parse(await nextMessage(socket)), { subject: 'bob', scopes: [] })
  socket.terminate()
})

t.test('an unknown user and a wrong password get the same answer', async (t) => {
  const server = await startServer(t)
  await server.users.add('disabled', 'pw', { disabled: true })
  const wrongPassword = await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: 'nope' })
  const unknownUser = await postForm(`${server.base}/token`, { grant_type: 'password', username: 'mallory', password: 'nope' })
  const disabledUser = await postForm(`${server.base}/token`, { grant_type: 'password', username: 'disabled', password: 'pw' })
  for (const result of [wrongPassword, unknownUser, disabledUser]) assertError(t, result, 400, 'invalid_grant')
  t.equal(unknownUser.text, wrongPassword.text, 'the same body')
  t.equal(disabledUser.text, wrongPassword.text, 'a disabled user with the right password: the same body')
  const headersOf = (result: Answer): Record<string, string> => {
    const { date, ...rest } = Object.fromEntries(result.headers)
    return rest
  }
  t.same(headersOf(unknownUser), headersOf(wrongPassword), 'the same headers')
  t.equal(wrongPassword.json.error_description, 'invalid username or password')
  const badScope = await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: 'nope', scope: 'admin' })
  t.equal(badScope.text, wrongPassword.text, 'a wrong password with a scope the user lacks says nothing about the scope')
  await stillServes(t, server)
})

t.test('missing parameters: invalid_request', async (t) => {
  const server = await startServer(t)
  const full = { grant_type: 'password', username: ALICE.username, password: ALICE.password }
  for (const name of ['grant_type', 'username', 'password'] as const) {
    const { [name]: _left, ...rest } = full
    const missing = await postForm(`${server.base}/token`, rest)
    assertError(t, missing, 400, 'invalid_request')
    t.equal(missing.json.error_description, `missing ${name}`)
    // RFC 6749 §3.2: a parameter sent without a value counts as absent.
    assertError(t, await postForm(`${server.base}/token`, { ...full, [name]: '' }), 400, 'invalid_request')
    assertError(t, await postJson(`${server.base}/token`, { ...full, [name]: null }), 400, 'invalid_request')
  }
  assertError(t, await postRaw(`${server.base}/token`, new Uint8Array(0)), 400, 'invalid_request')
  assertError(t, await postRaw(`${server.base}/token`, '', { 'content-type': 'application/x-www-form-urlencoded' }), 400, 'invalid_request')
  await stillServes(t, server)
})

t.test('wrong types and repeated parameters: invalid_request', async (t) => {
  const server = await startServer(t)
  const full = { grant_type: 'password', username: ALICE.username, password: ALICE.password }
  for (const name of ['grant_type', 'username', 'password', 'scope'] as const) {
    for (const value of [42, true, ['alice'], { a: 1 }, []]) {
      const result = await postJson(`${server.base}/token`, { ...full, [name]: value })
      assertError(t, result, 400, 'invalid_request')
      t.equal(result.json.error_description, `${name} must be one string`, `${name}: ${JSON.stringify(value)}`)
    }
    // A form field given twice arrives as an array (RFC 6749 §3.2: parameters must not repeat).
    const repeated = await postForm(`${server.base}/token`, { ...full, [name]: [name === 'scope' ? 'chat:read' : full[name as keyof typeof full], 'x'] })
    assertError(t, repeated, 400, 'invalid_request')
  }
  for (const body of ['[]', '"password"', '42', 'true']) {
    const result = await postRaw(`${server.base}/token`, body, { 'content-type': 'application/json' })
    assertError(t, result, 400, 'invalid_request')
    t.equal(result.json.error_description, 'body must be a form or a JSON object', body)
  }
  assertError(t, await postRaw(`${server.base}/token`, 'null', { 'content-type': 'application/json' }), 400, 'invalid_request')
  await stillServes(t, server)
})

t.test('unparsable bodies: invalid_request, with nothing of the body in the answer', async (t) => {
  const server = await startServer(t)
  for (const body of ['{"password": "hunter2', '{"__proto__": {"admin": true}}', '{"constructor": {"prototype": {}}}', 'password=hunter2']) {
    const result = await postRaw(`${server.base}/token`, body, { 'content-type': 'application/json' })
    assertError(t, result, 400, 'invalid_request')
    t.equal(result.json.error_description, 'malformed request body')
    t.notMatch(result.text, 'hunter2')
  }
  const badEncoding = await postRaw(`${server.base}/token`, 'grant_type=password&username=%zz&password=x', {
    'content-type': 'application/x-www-form-urlencoded',
  })
  // The form parser keeps a value it cannot percent-decode as it was sent: here an unknown username.
  assertError(t, badEncoding, 400, 'invalid_grant')
  await stillServes(t, server)
})

t.test('unsupported content types: 415', async (t) => {
  const server = await startServer(t)
  const cases: Array<[string, Record<string, string>]> = [
    ['grant_type=password', { 'content-type': 'text/plain' }],
    ['<grant_type>password</grant_type>', { 'content-type': 'application/xml' }],
    ['--x--', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['grant_type=password', { 'content-type': 'not a media type' }],
  ]
  for (const [body, headers] of cases) {
    const result = await postRaw(`${server.base}/token`, body, headers)
    assertError(t, result, 415, 'invalid_request')
    t.equal(result.json.error_description, 'unsupported content type')
  }
  const noType = await postRaw(`${server.base}/token`, new Uint8Array([1, 2, 3]))
  assertError(t, noType, 415, 'invalid_request')
  await stillServes(t, server)
})

t.test('a 1 MB body: 413', async (t) => {
  const server = await startServer(t)
  const megabyte = 'x'.repeat(1024 * 1024)
  const form = await postRaw(`${server.base}/token`, `grant_type=password&username=alice&password=${megabyte}`, {
    'content-type': 'application/x-www-form-urlencoded',
  })
  assertError(t, form, 413, 'invalid_request')
  t.equal(form.json.error_description, 'request body too large')
  await stillServes(t, server)
  const json = await postJson(`${server.base}/token`, { grant_type: 'password', username: 'alice', password: megabyte })
  assertError(t, json, 413, 'invalid_request')
  const unsupported = await postRaw(`${server.base}/token`, megabyte, { 'content-type': 'text/plain' })
  t.ok(unsupported.status === 413 || unsupported.status === 415, `a large body of another type: ${unsupported.status}`)
  const justUnder = await postForm(`${server.base}/token`, {
    grant_type: 'password', username: ALICE.username, password: ALICE.password, padding: 'x'.repeat(15 * 1024),
  })
  t.equal(justUnder.status, 200, 'under 16 KiB is fine')
  await stillServes(t, server)
})

t.test('unsupported grant types', async (t) => {
  const server = await startServer(t)
  for (const grantType of ['client_credentials', 'authorization_code', 'PASSWORD', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
    const result = await postForm(`${server.base}/token`, { grant_type: grantType, username: ALICE.username, password: ALICE.password })
    assertError(t, result, 400, 'unsupported_grant_type')
    t.equal(result.json.error_description, 'unsupported grant_type', 'the value sent is not echoed')
  }
  await stillServes(t, server)
})

t.test('scopes: a subset of the user\'s, or invalid_scope', async (t) => {
  const server = await startServer(t)
  const login = (scope: string): Promise<Answer> => postForm(`${server.base}/token`, {
    grant_type: 'password', username: ALICE.username, password: ALICE.password, scope,
  })
  for (const scope of ['admin', 'chat:read admin', 'chat:READ']) {
    const result = await login(scope)
    assertError(t, result, 400, 'invalid_scope')
    t.equal(result.json.error_description, 'scope not granted')
  }
  for (const scope of ['chat:read  chat:write', ' chat:read', 'chat:read ', 'a"b', 'a\\b', 'caf\u00e9', 'a\tb']) {
    const result = await login(scope)
    assertError(t, result, 400, 'invalid_scope')
    t.equal(result.json.error_description, 'malformed scope', JSON.stringify(scope))
  }
  t.equal((await login('chat:write chat:read')).json.scope, 'chat:write chat:read', 'the order asked')
  await stillServes(t, server)
})

t.test('neither passwords nor tokens reach the log', async (t) => {
  const server = await startServer(t)
  const tokens = await login(server)
  await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: 'wrong-password-1' })
  await postRaw(`${server.base}/token`, '{"password": "wrong-password-2', { 'content-type': 'application/json' })
  await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
  await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
  await postForm(`${server.base}/revoke`, { token: tokens.access_token })
  const log = server.logs.join('')
  t.match(log, 'token endpoint request refused', 'refusals are logged')
  for (const secret of [ALICE.password, 'wrong-password-1', 'wrong-password-2', tokens.refresh_token, tokens.access_token]) {
    t.notMatch(log, secret)
  }
})

t.test('the refused access token is refused by the guard too', async (t) => {
  const server = await startServer(t)
  const result = await refused(server.wsUrl, bearer('not-a-token'))
  t.equal(result.status, 401)
  await stillServes(t, server)
})
