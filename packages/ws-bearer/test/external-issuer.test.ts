import t, { type Test } from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import { SignJWT, importJWK } from 'jose'
import wsBearer, { externalIssuerVerifier, jwtVerifier, type ExternalIssuerOptions } from '@wsauth/ws-bearer'
import { signingKey, signingKeys } from '../../../examples/dev-idp/src/idp.ts'
import { APIS, startIdp, type RunningIdp } from '../../../test/helpers/oidc.ts'
import { connect, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { SECRET } from '../../../test/helpers/jwt.ts'

const RS = 'urn:test:rs256'
const ES = 'urn:test:es256'
const ED = 'urn:test:eddsa'

interface Guarded {
  url: string
  clock: { now: number }
  keySetErrors: string[]
  sign (payload: Record<string, unknown>): string
}

/** An app whose guard takes the provider's access tokens (for `audience`) and its own HS256 JWTs. */
async function guarded (t: Test, idp: RunningIdp, options: Partial<ExternalIssuerOptions> = {}): Promise<Guarded> {
  const clock = { now: Date.now() }
  const keySetErrors: string[] = []
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  await app.register(wsBearer, {
    clock: () => clock.now,
    verify: externalIssuerVerifier({
      issuer: idp.issuer,
      audience: Object.keys(APIS),
      jwksUri: idp.jwksUri,
      otherIssuers: jwtVerifier(app, { clock: () => clock.now }),
      onKeySetError: (error) => keySetErrors.push(error.message),
      clock: () => clock.now,
      ...options,
    }),
  })
  app.get('/ws', { websocket: true }, (socket, request) => {
    socket.send(`Welcome ${request.identity!.subject}! ${request.identity!.scopes.join(' ')}`)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { url: `ws://127.0.0.1:${port}/ws`, clock, keySetErrors, sign: (payload) => app.jwt.sign(payload) }
}

async function welcome (url: string, token: string): Promise<string> {
  const { socket } = await opened(url, { headers: { authorization: `Bearer ${token}` } })
  const message = await nextMessage(socket)
  socket.close()
  return message
}

async function status (url: string, token: string): Promise<number> {
  return (await refused(url, { headers: { authorization: `Bearer ${token}` } })).status
}

/** A token claiming the provider as issuer, signed with `key` (a key the provider never published, by default). */
async function forged (idp: RunningIdp, claims: Record<string, unknown> = {}, key = signingKey('RS256')): Promise<string> {
  return await new SignJWT({ sub: 'mallory', scope: 'chat', aud: RS, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid! })
    .setIssuer(idp.issuer)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(await importJWK(key, 'RS256'))
}

t.test('the provider\'s RS256, ES256 and EdDSA access tokens open sockets, and so do the app\'s own JWTs', async (t) => {
  const idp = await startIdp(t)
  const app = await guarded(t, idp)
  for (const resource of [RS, ES, ED]) {
    t.equal(await welcome(app.url, await idp.accessToken(resource)), 'Welcome test-machine! chat', resource)
  }
  t.equal(await welcome(app.url, app.sign({ sub: 'john', scope: 'chat' })), 'Welcome john! chat', 'otherIssuers: the app\'s own')
})

t.test('tokens the guard must not accept are 401', async (t) => {
  const idp = await startIdp(t)
  const other = await startIdp(t)
  const app = await guarded(t, idp, { audience: RS })
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const exp = Math.floor(app.clock.now / 1000) + 300
  const cases: Array<[string, string | Promise<string>]> = [
    ['from another issuer', other.accessToken(RS)],
    ['for another audience', idp.accessToken(ES)],
    ['signed by a key the provider never published', forged(idp)],
    ['with alg none', `${part({ alg: 'none' })}.${part({ iss: idp.issuer, aud: RS, sub: 'mallory', exp })}.`],
    ['without exp', (async () => {
      const key = idp.keys[0]!
      return await new SignJWT({ sub: 'mallory', aud: RS, iss: idp.issuer }).setProtectedHeader({ alg: 'RS256', kid: key.kid! }).sign(await importJWK(key, 'RS256'))
    })()],
    ['with an algorithm not allowed', (async () => {
      const key = idp.keys[0]!
      return await new SignJWT({ sub: 'mallory', aud: RS, iss: idp.issuer, exp }).setProtectedHeader({ alg: 'RS384', kid: key.kid! }).sign(await importJWK(key, 'RS384'))
    })()],
    ['not a JWT', 'not-a-jwt'],
    ['an HS256 JWT of another secret', (async () => {
      const { createSigner } = await import('fast-jwt')
      return createSigner({ key: 'another secret that is long enough for HS256!' })({ sub: 'mallory' })
    })()],
  ]
  for (const [name, token] of cases) t.equal(await status(app.url, await token), 401, name)
  t.equal(await welcome(app.url, await idp.accessToken(RS)), 'Welcome test-machine! chat', 'and the server still serves')
})

t.test('a token that expired by the injected clock is 401', async (t) => {
  const idp = await startIdp(t)
  const app = await guarded(t, idp)
  const token = await idp.accessToken(RS)
  // The dev provider's access tokens live 600 s.
  app.clock.now += 601_000
  t.equal(await status(app.url, token), 401)
})

t.test('key rotation at the provider: the new key\'s tokens are accepted without a restart, the old key\'s still', async (t) => {
  const idp = await startIdp(t)
  const app = await guarded(t, idp)
  const [oldKey, es, ed] = idp.keys
  t.equal(await welcome(app.url, await idp.accessToken(RS)), 'Welcome test-machine! chat', 'before: the first key')
  const oldKeysToken = await idp.accessToken(RS)

  // The provider publishes a new key first (it signs from now on) and keeps the old one until its tokens expire.
  const newKey = signingKey('RS256')
  await idp.stop()
  await idp.start([newKey, oldKey!, es!, ed!])
  const newKeysToken = await idp.accessToken(RS)
  t.not(newKeysToken.split('.')[0], oldKeysToken.split('.')[0], 'signed with another kid')
  // Rotations are seldom: past the cooldown of the last fetch.
  app.clock.now += 30_000
  t.equal(await welcome(app.url, newKeysToken), 'Welcome test-machine! chat', 'the new key\'s token, at once')
  t.equal(await welcome(app.url, oldKeysToken), 'Welcome test-machine! chat', 'the old key\'s token, not seen before, still')
  t.same(app.keySetErrors, [])
})

t.test('an unknown kid refetches the keys at most once per cooldown', async (t) => {
  const idp = await startIdp(t)
  let fetches = 0
  const original = globalThis.fetch
  globalThis.fetch = async (input, init) => {
    if (String(input) === idp.jwksUri) fetches++
    return await original(input, init)
  }
  t.teardown(() => { globalThis.fetch = original })
  const app = await guarded(t, idp)
  t.equal(await welcome(app.url, await idp.accessToken(RS)), 'Welcome test-machine! chat')
  t.equal(fetches, 1, 'the first token fetches the keys')
  for (let i = 0; i < 5; i++) t.equal(await status(app.url, await forged(idp)), 401)
  t.equal(fetches, 1, 'within the cooldown of that fetch, unknown kids fetch nothing')
  app.clock.now += 30_000
  for (let i = 0; i < 5; i++) t.equal(await status(app.url, await forged(idp)), 401)
  t.equal(fetches, 2, 'past it: one fetch for five unknown kids')
})

t.test('the provider down mid-run: cached keys go on verifying; an unknown kid is 503; back up, all is well', async (t) => {
  const idp = await startIdp(t)
  const app = await guarded(t, idp, { keysMaxAgeMs: 60_000 })
  t.equal(await welcome(app.url, await idp.accessToken(RS)), 'Welcome test-machine! chat')
  const tokens = [await idp.accessToken(RS), await idp.accessToken(ES), await idp.accessToken(ED)]
  await idp.stop()

  app.clock.now += 61_000
  for (const token of tokens) t.equal(await welcome(app.url, token), 'Welcome test-machine! chat', 'stale keys, refetch failed: cached keys')
  t.equal(app.keySetErrors.length, 1, 'one failed fetch, told once')
  t.match(app.keySetErrors[0], /\/jwks: ECONNREFUSED$/)

  app.clock.now += 30_000
  const unknownKid = await connect(app.url, { headers: { authorization: `Bearer ${await forged(idp)}` } })
  t.equal(unknownKid.kind === 'refused' && unknownKid.status, 503, 'an unknown kid while the keys cannot be fetched: 503')
  t.equal(app.keySetErrors.length, 2, 'that fetch failed too')
  const again = await connect(app.url, { headers: { authorization: `Bearer ${await forged(idp)}` } })
  t.equal(again.kind === 'refused' && again.status, 503, 'within the cooldown: no fetch, and still 503')
  t.equal(app.keySetErrors.length, 2)

  await idp.start(signingKeys())
  app.clock.now += 30_000
  t.equal(await welcome(app.url, await idp.accessToken(ES)), 'Welcome test-machine! chat', 'back up with new keys: accepted')
})

t.test('options are checked at startup', async (t) => {
  const base = { issuer: 'https://idp.example', audience: 'api', jwksUri: 'https://idp.example/jwks' }
  const errors: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...base, issuer: undefined }, /option "issuer" is required/],
    [{ ...base, jwksUri: undefined }, /option "jwksUri" is required/],
    [{ ...base, jwksUri: 'file:///etc/passwd' }, /option "jwksUri" must be an http\(s\) URL/],
    [{ ...base, audience: [] }, /option "audience" is required/],
    [{ ...base, audience: undefined }, /option "audience" is required/],
    [{ ...base, algorithms: ['HS256'] }, /option "algorithms" must be a non-empty list of RS256/],
    [{ ...base, algorithms: [] }, /option "algorithms" must be a non-empty list/],
    [{ ...base, keysCooldownMs: -1 }, /option "keysCooldownMs" must be an integer >= 0/],
    [{ ...base, jwks: 'x' }, /option "jwks" is not an option/],
  ]
  for (const [options, message] of errors) {
    t.throws(() => externalIssuerVerifier(options as unknown as ExternalIssuerOptions), { name: 'WsAuthOptionsError', message })
  }
  t.type(externalIssuerVerifier(base), 'function')
})
