// The guard remembers successful JWT verifications by token: each token goes through @fastify/jwt once, and expiry,
// revocation and the ten-minute bound still hold for a remembered one.
import t from 'tap'
import { VERIFIED_TOKENS_TTL_MS } from '@wsauth/ws-bearer'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { INVALID_TOKEN_CHALLENGE, SECRET, assertRefused, bearer, build, claimsOf, stillServes, type Fixture } from '../../../test/helpers/index.ts'

/** Counts the app's @fastify/jwt verifications; the guard looks the method up on every call. */
function countVerifications (fx: Fixture): () => number {
  const jwt = (fx.app as unknown as { jwt: { verify (token: string): unknown } }).jwt
  const verify = jwt.verify
  let calls = 0
  jwt.verify = function countedVerify (this: unknown, token: string) {
    calls++
    return verify.call(this, token)
  }
  return () => calls
}

async function welcome (fx: Fixture, token: string): Promise<string> {
  const { socket } = await opened(fx.url(), bearer(token))
  const message = await nextMessage(socket)
  const done = closed(socket)
  socket.close()
  await done
  return message
}

t.test('each token is verified by @fastify/jwt once, then remembered', async (t) => {
  const fx = await build(t)
  const verifications = countVerifications(fx)
  const alice = fx.sign({ sub: 'alice', jti: 'a-1' }, { expiresIn: 600 })
  t.equal(await welcome(fx, alice), 'Welcome alice!')
  t.equal(await welcome(fx, alice), 'Welcome alice!')
  t.equal(verifications(), 1, 'the second handshake did not verify again')
  t.equal(await welcome(fx, fx.sign({ sub: 'bob' }, { expiresIn: 600 })), 'Welcome bob!')
  t.equal(verifications(), 2, 'another token is verified')
  assertRefused(t, await refused(fx.url(), bearer(`${alice}x`)), { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE })
  t.equal(verifications(), 3, 'a forged variant of a remembered token is verified, and refused')
  await stillServes(t, fx)
})

t.test('a remembered token is refused once it expires', async (t) => {
  let now = Date.now()
  const fx = await build(t, { guard: { clock: () => now } })
  const token = fx.sign({ sub: 'alice' }, { expiresIn: 60 })
  t.equal(await welcome(fx, token), 'Welcome alice!')
  now = claimsOf(token).exp * 1000
  assertRefused(t, await refused(fx.url(), bearer(token)), { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE })
  now = Date.now()
  await stillServes(t, fx)
})

t.test('a remembered token is refused once revoked', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'alice', jti: 'to-revoke' }, { expiresIn: 600 })
  t.equal(await welcome(fx, token), 'Welcome alice!')
  await fx.app.wsAuth.revokeToken('to-revoke', Date.now() + 600_000)
  assertRefused(t, await refused(fx.url(), bearer(token)), { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE })
  await stillServes(t, fx)
})

t.test('a token is remembered for ten minutes at most, then verified again', async (t) => {
  let now = Date.now()
  const fx = await build(t, { guard: { clock: () => now } })
  const verifications = countVerifications(fx)
  const token = fx.sign({ sub: 'alice' })
  t.equal(await welcome(fx, token), 'Welcome alice!')
  now += VERIFIED_TOKENS_TTL_MS - 1
  t.equal(await welcome(fx, token), 'Welcome alice!')
  t.equal(verifications(), 1, 'still remembered just before the bound')
  now += 1
  t.equal(await welcome(fx, token), 'Welcome alice!')
  t.equal(verifications(), 2, 'verified again at the bound')
})

t.test('a remembered identity is frozen: one route cannot change what another sees', async (t) => {
  const fx = await build(t, {
    routes: (app) => {
      app.get('/mutate', { websocket: true }, (socket, request) => {
        const identity = request.identity!
        let scopes = 'mutable'
        try { (identity.scopes as string[]).push('admin') } catch { scopes = 'frozen' }
        let claims = 'mutable'
        try { (identity.claims as Record<string, unknown>).sub = 'mallory' } catch { claims = 'frozen' }
        socket.send(`${scopes} ${claims} ${identity.scopes.join(' ')} ${String(identity.claims.sub)}`)
      })
    },
  })
  const token = fx.sign({ sub: 'alice', scope: 'chat' }, { expiresIn: 600 })
  for (let i = 0; i < 2; i++) {
    const { socket } = await opened(fx.url('/mutate'), bearer(token))
    t.equal(await nextMessage(socket), 'frozen frozen chat alice', `handshake ${i + 1}`)
    socket.close()
  }
})

t.test('with @fastify/jwt `maxAge` set, every handshake goes to @fastify/jwt (it alone checks `iat`)', async (t) => {
  const fx = await build(t, { jwt: { verify: { maxAge: '1h' } } })
  const verifications = countVerifications(fx)
  const token = fx.sign({ sub: 'alice' }, { expiresIn: 600 })
  t.equal(await welcome(fx, token), 'Welcome alice!')
  t.equal(await welcome(fx, token), 'Welcome alice!')
  t.equal(verifications(), 2)
})

t.test('a key function (@fastify/jwt answers with a promise): good tokens open, bad ones are 401, nothing crashes', async (t) => {
  const fx = await build(t, { jwt: { secret: { private: SECRET, public: async () => SECRET } } })
  const token = fx.sign({ sub: 'alice', scope: 'chat' }, { expiresIn: 600 })
  t.equal(await welcome(fx, token), 'Welcome alice!')
  t.equal(await welcome(fx, token), 'Welcome alice!', 'and remembered')
  for (const bad of ['garbage.x.y', `${token}x`, fx.sign({ scope: 'no subject' }, { expiresIn: 600 })]) {
    assertRefused(t, await refused(fx.url(), bearer(bad)), { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE }, bad.slice(0, 12))
  }
  await stillServes(t, fx)
})
