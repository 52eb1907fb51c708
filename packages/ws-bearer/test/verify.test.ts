// Verification: opaque tokens through the app's `verify`, and JWTs through @fastify/jwt with its own restrictions.
import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { WsAuthError, type Identity } from '@wsauth/core'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { INVALID_TOKEN_CHALLENGE, assertRefused, bearer, build, stillServes } from '../../../test/helpers/index.ts'

t.test('opaque tokens through verify', async (t) => {
  const calls: Array<{ token: string, url: string }> = []
  const fx = await build(t, {
    jwt: false,
    guard: {
      query: true,
      async verify (token: string, request: FastifyRequest) {
        calls.push({ token, url: request.url })
        switch (token) {
          case 'probe-token': return { subject: 'probe' }
          case 'opaque-good': return { subject: 'svc', scopes: ['read'], expiresAt: Date.now() + 60_000, tokenId: 'op-1' }
          case 'opaque-expired': return { subject: 'svc', expiresAt: Date.now() - 1 }
          case 'boom': throw new Error('db password hunter2 rejected')
          case 'down': throw new WsAuthError('unavailable', 'token store unreachable')
          case 'no-subject': return { subject: '' }
          default: return null
        }
      },
    },
  })
  // The fixture's own probe signs JWTs; this app has no @fastify/jwt, so probe with an opaque token.
  const serves = async (): Promise<void> => {
    const { socket } = await opened(fx.url(), bearer('probe-token'))
    t.equal(await nextMessage(socket), 'Welcome probe!', 'the server still serves a good handshake')
    socket.close()
  }

  t.test('a good opaque token opens; its identity is completed by the guard', async (t) => {
    const { socket } = await opened(fx.url('/identity'), bearer('opaque-good'))
    const identity = JSON.parse(await nextMessage(socket)) as Identity
    t.match(identity, { subject: 'svc', scopes: ['read'], claims: {}, transport: 'bearer', tokenId: 'op-1' })
    t.type(identity.expiresAt, 'number')
    t.match(calls.at(-1), { token: 'opaque-good', url: '/identity' }, 'verify gets the token and the request')
    socket.close()
    const viaQuery = await opened(fx.url('/identity?token=opaque-good'))
    t.match(JSON.parse(await nextMessage(viaQuery.socket)), { subject: 'svc', transport: 'query' })
    viaQuery.socket.close()
  })

  t.test('verify returns null: 401', async (t) => {
    assertRefused(t, await refused(fx.url(), bearer('unknown')), {
      status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE, body: { error: 'invalid_token', error_description: 'invalid token' },
    })
    await serves()
  })

  t.test('verify returns an identity that has already expired: 401', async (t) => {
    assertRefused(t, await refused(fx.url(), bearer('opaque-expired')), { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE })
    await serves()
  })

  t.test('verify throws a plain Error: 500, the message is not leaked, the server keeps serving', async (t) => {
    for (let i = 0; i < 3; i++) {
      const refusal = await refused(fx.url(), bearer('boom'))
      assertRefused(t, refusal, { status: 500, wwwAuthenticate: null, body: { error: 'server_error', error_description: 'internal error' } })
      t.notMatch(refusal.body, /hunter2|password|db/, 'no word of the error in the body')
      t.notMatch(JSON.stringify(refusal.headers), /hunter2/, 'nor in a header')
    }
    await serves()
  })

  t.test('verify throws WsAuthError unavailable: 503', async (t) => {
    assertRefused(t, await refused(fx.url(), bearer('down')), {
      status: 503, wwwAuthenticate: null, body: { error: 'temporarily_unavailable', error_description: 'try again later' },
    })
    await serves()
  })

  t.test('verify returns an identity without a subject: a bug, 500', async (t) => {
    assertRefused(t, await refused(fx.url(), bearer('no-subject')), { status: 500, body: { error: 'server_error', error_description: 'internal error' } })
    await serves()
  })

  t.test('close mode answers the same outcomes by code', async (t) => {
    for (const [token, code, reason] of [['unknown', 4401, 'invalid token'], ['boom', 1011, 'internal error'], ['down', 1013, 'try again later']] as const) {
      const { socket } = await opened(fx.url('/close-mode'), bearer(token))
      t.strictSame(await closed(socket), { code, reason }, token)
    }
    await serves()
  })
})

t.test('@fastify/jwt verify restrictions (allowedIss, allowedAud) apply to the guard', async (t) => {
  // fast-jwt checks allowedIss/allowedAud only on tokens that carry the claim; requiredClaims makes it mandatory.
  const fx = await build(t, {
    jwt: { verify: { allowedIss: 'https://issuer.test', allowedAud: 'wsauth', requiredClaims: ['iss', 'aud'] } },
  })
  const claims = { iss: 'https://issuer.test', aud: 'wsauth' }

  const { socket } = await opened(fx.url(), bearer(fx.sign({ sub: 'alice', ...claims })))
  t.equal(await nextMessage(socket), 'Welcome alice!', 'the right issuer and audience open')
  socket.close()

  const wrong: Array<[string, Record<string, unknown>]> = [
    ['another issuer', { ...claims, iss: 'https://evil.test' }],
    ['no issuer', { aud: 'wsauth' }],
    ['another audience', { ...claims, aud: 'other-api' }],
    ['no audience', { iss: 'https://issuer.test' }],
  ]
  for (const [name, payload] of wrong) {
    assertRefused(t, await refused(fx.url(), bearer(fx.sign({ sub: 'alice', ...payload }))), {
      status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE, body: { error: 'invalid_token', error_description: 'invalid token' },
    }, name)
  }
  await stillServes(t, fx, claims)
})

t.test('jwtNamespace: the guard verifies with a namespaced @fastify/jwt', async (t) => {
  const fx = await build(t, { jwt: { namespace: 'ws' }, guard: { jwtNamespace: 'ws' } })
  const jwt = (fx.app as unknown as { jwt: { ws: { sign (payload: object): string } } }).jwt.ws
  const { socket } = await opened(fx.url(), bearer(jwt.sign({ sub: 'alice' })))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  socket.close()
  assertRefused(t, await refused(fx.url(), bearer('junk')), { status: 401 })
})
