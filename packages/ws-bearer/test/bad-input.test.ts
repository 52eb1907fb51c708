// The issue's list of bad inputs, each answered with its exact status (and challenge and body where they matter),
// each followed by a good handshake on the same server: a bad input never costs the server anything.
import t from 'tap'
import { nextMessage, opened, rawHandshake, refused } from '../../../test/helpers/ws.ts'
import {
  BASIC_CHALLENGE, CHALLENGE, INVALID_REQUEST_CHALLENGE, INVALID_TOKEN_CHALLENGE, OTHER_SECRET, SECRET,
  assertRefused, basic, bearer, build, craftJwt, logCollector, nowSeconds, stillServes,
} from '../../../test/helpers/index.ts'

const malformed = (description: string): { error: string, error_description: string } =>
  ({ error: 'invalid_request', error_description: description })
const invalid = (description = 'invalid token'): { error: string, error_description: string } =>
  ({ error: 'invalid_token', error_description: description })
const NO_CREDENTIALS = { error: 'unauthorized', error_description: 'no credentials' }

t.test('bad input on Bearer and query (Basic off)', async (t) => {
  const fx = await build(t, { guard: { query: true } })

  t.test('Authorization: Bearer with no token: 400', async (t) => {
    const refusal = await refused(fx.url(), { headers: { Authorization: 'Bearer' } })
    assertRefused(t, refusal, { status: 400, wwwAuthenticate: INVALID_REQUEST_CHALLENGE, body: malformed('missing credentials') })
    await stillServes(t, fx)
  })

  t.test('Bearer followed by spaces: 400', async (t) => {
    const refusal = await refused(fx.url(), { headers: { Authorization: 'Bearer    ' } })
    assertRefused(t, refusal, { status: 400, wwwAuthenticate: INVALID_REQUEST_CHALLENGE, body: malformed('missing credentials') })
    // The same bytes on the wire, without a client that could tidy them up.
    const raw = await rawHandshake(fx.port, '/ws', ['Authorization: Bearer    '])
    t.equal(raw.status, 400, 'raw: 400')
    await stillServes(t, fx)
  })

  t.test('lowercase bearer: valid, opens', async (t) => {
    const token = fx.sign({ sub: 'alice' })
    const { socket } = await opened(fx.url('/identity'), { headers: { Authorization: `bearer ${token}` } })
    const identity = JSON.parse(await nextMessage(socket)) as { subject: string, transport: string }
    t.equal(identity.subject, 'alice')
    t.equal(identity.transport, 'bearer')
    socket.close()
    await stillServes(t, fx)
  })

  t.test('an unknown scheme is no credential: 401 with the bare challenge', async (t) => {
    const cases = [
      'Token abc',
      'Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACj',
      // RFC 7235 credentials of another scheme need not be token68: auth-params, or nothing at all.
      'Digest username="alice", realm="wsauth", nonce="abc", uri="/ws", response="def"',
      'Negotiate',
      // Basic is another scheme while the guard has it off.
      `Basic ${Buffer.from(`token:${fx.sign({ sub: 'alice' })}`).toString('base64')}`,
    ]
    for (const header of cases) {
      const refusal = await refused(fx.url(), { headers: { Authorization: header } })
      assertRefused(t, refusal, { status: 401, wwwAuthenticate: CHALLENGE, body: NO_CREDENTIALS }, header.slice(0, 20))
    }
    await stillServes(t, fx)
  })

  t.test('two Authorization headers: 400', async (t) => {
    const token = fx.sign({ sub: 'alice' })
    // ws and Node collapse a header set twice, so this one is written by hand.
    const twoGood = await rawHandshake(fx.port, '/ws', [`Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`])
    t.equal(twoGood.status, 400, 'two copies of a good token: 400')
    t.match(twoGood.head, /\r\nwww-authenticate: Bearer realm="wsauth", error="invalid_request"\r\n/i)
    const mixed = await rawHandshake(fx.port, '/ws', [`Authorization: Bearer ${token}`, 'authorization: Bearer other'])
    t.equal(mixed.status, 400, 'two different tokens, names in different case: 400')
    const withOtherScheme = await rawHandshake(fx.port, '/ws', ['Authorization: Digest username="a"', `Authorization: Bearer ${token}`])
    t.equal(withOtherScheme.status, 400, 'a second header is malformed whatever the scheme of the first')
    const one = await rawHandshake(fx.port, '/ws', [`Authorization: Bearer ${token}`])
    t.equal(one.status, 101, 'the same request with one header upgrades')
    await stillServes(t, fx)
  })

  t.test('a 10 KB token: 400', async (t) => {
    const refusal = await refused(fx.url(), bearer('a'.repeat(10 * 1024)))
    assertRefused(t, refusal, { status: 400, wwwAuthenticate: INVALID_REQUEST_CHALLENGE, body: malformed('credential too long') })
    const inQuery = await refused(fx.url(`/ws?token=${'a'.repeat(10 * 1024)}`))
    assertRefused(t, inQuery, { status: 400, body: malformed('credential too long') }, 'in the query')
    await stillServes(t, fx)
  })

  t.test('?token=a&token=b: 400', async (t) => {
    const refusal = await refused(fx.url('/ws?token=a&token=b'))
    assertRefused(t, refusal, { status: 400, wwwAuthenticate: INVALID_REQUEST_CHALLENGE, body: malformed('more than one token parameter') })
    const token = fx.sign({ sub: 'alice' })
    const twoGood = await refused(fx.url(`/ws?token=${token}&token=${token}`))
    assertRefused(t, twoGood, { status: 400 }, 'two copies of a good token')
    const encodedName = await refused(fx.url(`/ws?token=${token}&%74oken=b`))
    assertRefused(t, encodedName, { status: 400 }, 'a percent-encoded second name')
    await stillServes(t, fx)
  })

  t.test('an empty ?token=: 401, no credential', async (t) => {
    for (const path of ['/ws?token=', '/ws?token', '/ws?other=1&token=']) {
      const refusal = await refused(fx.url(path))
      assertRefused(t, refusal, { status: 401, wwwAuthenticate: CHALLENGE, body: NO_CREDENTIALS }, path)
    }
    await stillServes(t, fx)
  })

  t.test('a JWT with alg none: 401', async (t) => {
    const now = nowSeconds()
    const unsigned = craftJwt({ alg: 'none', typ: 'JWT' }, { sub: 'alice', iat: now, exp: now + 600 }, null)
    t.ok(unsigned.endsWith('.'), 'empty signature')
    assertRefused(t, await refused(fx.url(), bearer(unsigned)),
      { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE, body: invalid() })
    assertRefused(t, await refused(fx.url(`/ws?token=${unsigned}`)), { status: 401, body: invalid() }, 'in the query')
    await stillServes(t, fx)
  })

  t.test('a JWT signed with another key: 401', async (t) => {
    const now = nowSeconds()
    const forged = craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', iat: now, exp: now + 600 }, OTHER_SECRET)
    assertRefused(t, await refused(fx.url(), bearer(forged)),
      { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE, body: invalid() })
    // Control: the same hand-made token over the right key is accepted, so the key is what was refused.
    const genuine = craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', iat: now, exp: now + 600 }, SECRET)
    const { socket } = await opened(fx.url(), bearer(genuine))
    socket.close()
    await stillServes(t, fx)
  })

  t.test('an expired JWT: 401', async (t) => {
    const now = nowSeconds()
    const expired = craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', iat: now - 120, exp: now - 60 }, SECRET)
    assertRefused(t, await refused(fx.url(), bearer(expired)),
      { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE, body: invalid() })
    await stillServes(t, fx)
  })

  t.test('a JWT not yet valid (nbf in the future): 401', async (t) => {
    const early = fx.sign({ sub: 'alice' }, { notBefore: 3600 })
    assertRefused(t, await refused(fx.url(), bearer(early)),
      { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE, body: invalid() })
    await stillServes(t, fx)
  })

  t.test('not a JWT at all: 401', async (t) => {
    for (const token of ['abc', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9..']) {
      assertRefused(t, await refused(fx.url(), bearer(token)), { status: 401, body: invalid() }, token)
    }
    await stillServes(t, fx)
  })

  t.test('Bearer credentials that are not token68: 400', async (t) => {
    for (const header of ['Bearer a b', 'Bearer a,b', 'Bearer realm="x"', 'Bearer =abc']) {
      assertRefused(t, await refused(fx.url(), { headers: { Authorization: header } }),
        { status: 400, body: malformed('malformed Authorization header') }, header)
    }
    await stillServes(t, fx)
  })
})

t.test('a query token hidden behind # is not a credential, and is not logged', async (t) => {
  const { stream, lines } = logCollector()
  const fx = await build(t, { guard: { query: true }, logger: { level: 'info', stream } })
  const token = fx.sign({ sub: 'alice' }, { expiresIn: 600 })
  const raw = await rawHandshake(fx.port, `/ws?x=1#&token=${token}`, [])
  t.equal(raw.status, 401, 'no credential: the query ends at #')
  await stillServes(t, fx)
  await fx.app.close()
  t.ok(lines.some((line) => line.includes('"url":"/ws?[redacted]"')), 'logged, redacted')
  t.strictSame(lines.filter((line) => line.includes(token)), [])
})

t.test('bad input on Basic (Basic on)', async (t) => {
  const fx = await build(t, { guard: { basic: true, origins: ['http://localhost:8000'] } })
  const cases: Array<[string, string, string]> = [
    ['not base64', 'Basic abc', 'Basic credentials are not base64'],
    ['base64url, not base64', 'Basic dG9r-W4_', 'Basic credentials are not base64'],
    ['no :', basic('justausername').headers.Authorization!, 'Basic credentials have no colon'],
    ['not UTF-8', basic(Buffer.from([0x75, 0x3a, 0xff, 0xfe, 0xfd])).headers.Authorization!, 'Basic credentials are not UTF-8'],
    ['token: with an empty token', basic('token:').headers.Authorization!, 'empty token'],
    ['control characters', basic('alice:pa\u0000ss').headers.Authorization!, 'Basic credentials contain control characters'],
  ]
  for (const [name, header, description] of cases) {
    t.test(`Basic ${name}: 400`, async (t) => {
      const refusal = await refused(fx.url(), { headers: { Authorization: header } })
      // A malformed request gets no Basic challenge: that is for a missing or wrong credential.
      assertRefused(t, refusal, { status: 400, wwwAuthenticate: INVALID_REQUEST_CHALLENGE, body: malformed(description) })
      await stillServes(t, fx)
    })
  }

  t.test('Basic token:<a JWT over another key>: 401 with both challenges', async (t) => {
    const now = nowSeconds()
    const forged = craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', iat: now, exp: now + 600 }, OTHER_SECRET)
    assertRefused(t, await refused(fx.url(), basic(`token:${forged}`)), {
      status: 401,
      wwwAuthenticate: `${INVALID_TOKEN_CHALLENGE}, ${BASIC_CHALLENGE}`,
      body: invalid(),
    })
    await stillServes(t, fx)
  })

  t.test('Basic with a real username and no verifyPassword: 401', async (t) => {
    assertRefused(t, await refused(fx.url(), basic('alice:secret')), {
      status: 401,
      wwwAuthenticate: `${INVALID_TOKEN_CHALLENGE}, ${BASIC_CHALLENGE}`,
      body: invalid('invalid username or password'),
    })
    await stillServes(t, fx)
  })
})
