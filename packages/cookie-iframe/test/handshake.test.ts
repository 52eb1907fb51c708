// The cookie transport at the handshake, from raw clients over TCP: the Origin policy that makes an ambient cookie
// safe (CSWSH), and every bad cookie answered with its exact status, the server serving on afterwards.
import t from 'tap'
import { nextMessage, opened, rawHandshake, refused } from '../../../test/helpers/ws.ts'
import { REFUSED_ORIGINS } from '../../../test/helpers/origins.ts'
import { INVALID_TOKEN_CHALLENGE, assertRefused, closedOnOpen, craftJwt, nowSeconds } from '../../../test/helpers/index.ts'
import { COOKIE_SECRET, ORIGIN, SECRET, build, signedCookie, stillServes } from './fixture.ts'

const FORBIDDEN = { status: 403, wwwAuthenticate: null }

t.test('a valid cookie from an allowed Origin opens, as the cookie transport', async (t) => {
  const fx = await build(t)
  const { socket } = await opened(fx.ws(), { headers: { cookie: signedCookie(fx.sign({ sub: 'alice' })) }, origin: ORIGIN })
  t.equal(await nextMessage(socket), 'Welcome alice by cookie!')
  t.equal(fx.app.wsAuth.connectionCount('alice'), 1, 'tracked like any socket (expiry, disconnect)')
  socket.close()
})

t.test('Origin policy for the cookie: only the exact allowed Origin', async (t) => {
  const fx = await build(t)
  const cookie = signedCookie(fx.sign({ sub: 'alice' }))

  t.test('foreign, lookalike, null, other scheme, other port: 403', async (t) => {
    for (const origin of REFUSED_ORIGINS) {
      const before = fx.handled
      assertRefused(t, await refused(fx.ws(), { headers: { cookie }, origin }), {
        ...FORBIDDEN, body: { error: 'forbidden', error_description: 'origin not allowed' },
      }, JSON.stringify(origin))
      t.equal(fx.handled, before, `${JSON.stringify(origin)}: the app handler never ran`)
    }
    await stillServes(t, fx)
  })

  t.test('no Origin at all: 403 for the cookie (a browser always sends one on a WebSocket)', async (t) => {
    assertRefused(t, await refused(fx.ws(), { headers: { cookie } }), {
      ...FORBIDDEN, body: { error: 'forbidden', error_description: 'origin required' },
    })
    const raw = await rawHandshake(fx.port, '/ws', [`Cookie: ${cookie}`])
    t.equal(raw.status, 403, 'raw: 403')
    await stillServes(t, fx)
  })

  t.test('no Origin with a Bearer token: a machine, allowed (the header outranks the cookie)', async (t) => {
    const { socket } = await opened(fx.ws(), { headers: { authorization: `Bearer ${fx.sign({ sub: 'robot' })}`, cookie } })
    t.equal(await nextMessage(socket), 'Welcome robot by bearer!')
    socket.close()
    await stillServes(t, fx)
  })
})

t.test('bad cookies, each with its status, the server serving on', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'alice' })
  const signed = signedCookie(token)

  const cases: Array<[string, string, number, string]> = [
    ['a tampered signature', `${signed.slice(0, -2)}xx`, 401, 'invalid session cookie'],
    ['a tampered token under the old signature', signed.replace('wsauth=ey', 'wsauth=eY'), 401, 'invalid session cookie'],
    ['the bare token, unsigned', `wsauth=${token}`, 401, 'invalid session cookie'],
    ['signed with a key the server does not have', signedCookie(token, 'some-other-cookie-signing-key-00000000'), 401, 'invalid session cookie'],
    ['a signature with nothing signed', 'wsauth=.abc', 401, 'invalid session cookie'],
    ['an expired token', signedCookie(craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', exp: nowSeconds() - 10 }, SECRET)), 401, 'invalid token'],
    ['a signed token the verifier refuses', signedCookie('not-a-jwt'), 401, 'invalid token'],
    ['two session cookies', `${signed}; ${signedCookie(fx.sign({ sub: 'mallory' }))}`, 400, 'more than one session cookie'],
    ['a cookie over 4096 bytes', signedCookie('a'.repeat(4100)), 400, 'credential too long'],
  ]
  for (const [name, cookie, status, description] of cases) {
    t.test(`${name}: ${status}`, async (t) => {
      const before = fx.handled
      const body = { error: status === 400 ? 'invalid_request' : 'invalid_token', error_description: description }
      assertRefused(t, await refused(fx.ws(), { headers: { cookie }, origin: ORIGIN }),
        { status, wwwAuthenticate: status === 401 ? INVALID_TOKEN_CHALLENGE : 'Bearer realm="wsauth", error="invalid_request"', body })
      t.equal(fx.handled, before, 'the app handler never ran')
      await stillServes(t, fx)
    })
  }

  t.test('an emptied cookie (after a logout) or another cookie only: no credential, 401', async (t) => {
    for (const cookie of ['wsauth=', 'other=1; wsauth_x=2; xwsauth=3']) {
      assertRefused(t, await refused(fx.ws(), { headers: { cookie }, origin: ORIGIN }), {
        status: 401, wwwAuthenticate: 'Bearer realm="wsauth"', body: { error: 'unauthorized', error_description: 'no credentials' },
      }, cookie)
    }
    await stillServes(t, fx)
  })

  t.test('the session cookie among others, with spaces, is found', async (t) => {
    const { socket } = await opened(fx.ws(), { headers: { cookie: `theme=dark;  ${signed} ; lang=en` }, origin: ORIGIN })
    t.equal(await nextMessage(socket), 'Welcome alice by cookie!')
    socket.close()
  })

  t.test('a revoked token in a valid cookie: 401', async (t) => {
    const revocable = fx.sign({ sub: 'alice' }, { jti: 'revoked-1', expiresIn: 60 })
    await fx.app.wsAuth.revokeToken('revoked-1', Date.now() + 60_000)
    assertRefused(t, await refused(fx.ws(), { headers: { cookie: signedCookie(revocable) }, origin: ORIGIN }), {
      status: 401, body: { error: 'invalid_token', error_description: 'token revoked' },
    })
    await stillServes(t, fx)
  })
})

t.test('close mode: the same refusals as close codes a page can see', async (t) => {
  const fx = await build(t, { guard: { mode: 'close' } })
  const cookie = signedCookie(fx.sign({ sub: 'alice' }))
  const cases: Array<[string, Record<string, unknown>, number]> = [
    ['a foreign Origin', { headers: { cookie }, origin: 'http://localhost:8001' }, 4403],
    ['a lookalike Origin', { headers: { cookie }, origin: 'http://localhost:8000.evil.test' }, 4403],
    ['Origin null', { headers: { cookie }, origin: 'null' }, 4403],
    ['no Origin', { headers: { cookie } }, 4403],
    ['a tampered signature', { headers: { cookie: `${cookie.slice(0, -2)}xx` }, origin: ORIGIN }, 4401],
    ['two session cookies', { headers: { cookie: `${cookie}; ${cookie}` }, origin: ORIGIN }, 4400],
  ]
  for (const [name, options, code] of cases) {
    const before = fx.handled
    t.equal((await closedOnOpen(fx.ws(), options)).code, code, name)
    t.equal(fx.handled, before, `${name}: the app handler never ran`)
  }
  await stillServes(t, fx)
})

t.test('key rotation: a cookie signed with an older key still opens; with a dropped key it does not', async (t) => {
  const OLD = 'the-previous-cookie-signing-key-000000000'
  const fx = await build(t, { plugin: { secret: [COOKIE_SECRET, OLD] } })
  const token = fx.sign({ sub: 'alice' })
  const { socket } = await opened(fx.ws(), { headers: { cookie: signedCookie(token, OLD) }, origin: ORIGIN })
  t.equal(await nextMessage(socket), 'Welcome alice by cookie!', 'signed with the old key')
  socket.close()
  assertRefused(t, await refused(fx.ws(), { headers: { cookie: signedCookie(token, 'a-key-that-was-dropped-000000000000000') }, origin: ORIGIN }),
    { status: 401 }, 'signed with a key no longer listed')
  await stillServes(t, fx)
})

t.test('over https (behind a proxy): the cookie is __Host-wsauth, and the plain name is not read', async (t) => {
  const fx = await build(t, { trustProxy: true })
  const token = fx.sign({ sub: 'alice' })
  const https = { 'x-forwarded-proto': 'https' }
  const { socket } = await opened(fx.ws(), { headers: { ...https, cookie: signedCookie(token, COOKIE_SECRET, '__Host-wsauth') }, origin: ORIGIN })
  t.equal(await nextMessage(socket), 'Welcome alice by cookie!')
  socket.close()
  assertRefused(t, await refused(fx.ws(), { headers: { ...https, cookie: signedCookie(token) }, origin: ORIGIN }),
    { status: 401, body: { error: 'unauthorized', error_description: 'no credentials' } }, 'wsauth= is not the https cookie')
  await stillServes(t, fx)
})

t.test("the guard's credential cap applies to the cookie's token, in the guard's pipeline like every transport's", async (t) => {
  const fx = await build(t, { guard: { maxCredentialLength: 300 } })
  const long = fx.sign({ sub: 'alice', padding: 'x'.repeat(300) })
  assertRefused(t, await refused(fx.ws(), { headers: { cookie: signedCookie(long) }, origin: ORIGIN }), {
    status: 400, body: { error: 'invalid_request', error_description: 'credential too long' },
  })
  const session = await fetch(fx.http('/ws-auth/session'), { method: 'POST', headers: { authorization: `Bearer ${long}` } })
  t.equal(session.status, 400, 'POST /ws-auth/session caps the token the same way')
  t.strictSame(await session.json(), { error: 'invalid_request', error_description: 'credential too long' })
  await stillServes(t, fx)
})
