// Live sockets: expiry enforced for the life of the socket, disconnect by subject or token id, revocation, counts.
// No timing is asserted: short real JWT lifetimes, then the close code and reason.
import t from 'tap'
import type { FastifyRequest } from 'fastify'
import type { Identity, WsAuthError } from '@wsauth/core'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { INVALID_TOKEN_CHALLENGE, assertRefused, bearer, build, closedOnOpen, stillServes } from '../../../test/helpers/index.ts'

type Socket = Awaited<ReturnType<typeof opened>>['socket']

function claimsOf (token: string): { exp: number, jti?: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number, jti?: string }
}

t.test('a token that expires on a live socket closes it: 4401 token expired', async (t) => {
  const fx = await build(t, { guard: { query: true } })
  // Two seconds, not one: `exp` is whole seconds, so a one-second token can be only milliseconds from expiry when it
  // is signed, and the handshake itself would then (rightly) refuse it.
  const short = fx.sign({ sub: 'alice' }, { expiresIn: 2 })
  const long = fx.sign({ sub: 'bob' }, { expiresIn: 600 })

  const first = await opened(fx.url(), bearer(short))
  const second = await opened(fx.url(`/ws?token=${short}`))
  const survivor = await opened(fx.url(), bearer(long))
  t.equal(await nextMessage(first.socket), 'Welcome alice!')
  t.equal(fx.app.wsAuth.connectionCount(), 3)

  const [a, b] = await Promise.all([closed(first.socket), closed(second.socket)])
  t.strictSame(a, { code: 4401, reason: 'token expired' }, 'over Bearer')
  t.strictSame(b, { code: 4401, reason: 'token expired' }, 'over the query')
  t.ok(Date.now() >= claimsOf(short).exp * 1000, 'not before exp')

  t.equal(await nextMessage(survivor.socket), 'Welcome bob!')
  survivor.socket.send('still here')
  t.equal(await nextMessage(survivor.socket), 'You wrote: still here', 'a socket with a longer token stays open')
  assertRefused(t, await refused(fx.url(), bearer(short)), { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE },
    'the expired token is refused at the handshake')
  const done = closed(survivor.socket)
  survivor.socket.close()
  await done
  await fx.serverSocketsClosed()
  t.equal(fx.app.wsAuth.connectionCount(), 0)
})

t.test('an opaque token with a short expiresAt from verify closes too', async (t) => {
  const fx = await build(t, {
    jwt: false,
    guard: { verify: (token) => token === 'short' ? { subject: 'svc', expiresAt: Date.now() + 300 } : null },
  })
  const { socket } = await opened(fx.url(), bearer('short'))
  t.equal(await nextMessage(socket), 'Welcome svc!')
  t.strictSame(await closed(socket), { code: 4401, reason: 'token expired' })
})

t.test('disconnect(subject)', async (t) => {
  const fx = await build(t, { guard: { query: true } })
  const open = async (sub: string, path = '/ws'): Promise<Socket> => {
    const { socket } = await opened(fx.url(path), bearer(fx.sign({ sub }, { expiresIn: 600 })))
    t.equal(await nextMessage(socket), `Welcome ${sub}!`)
    return socket
  }

  t.test('closes every socket of the subject with 4401 token revoked and returns the count', async (t) => {
    const alice = [await open('alice'), await open('alice'), await open('alice', '/close-mode')]
    const bob = await open('bob')
    t.equal(fx.app.wsAuth.connectionCount('alice'), 3)
    t.equal(fx.app.wsAuth.connectionCount('bob'), 1)
    t.equal(fx.app.wsAuth.connectionCount(), 4)

    const codes = Promise.all(alice.map(closed))
    t.equal(fx.app.wsAuth.disconnect('alice'), 3, 'returns how many')
    t.equal(fx.app.wsAuth.connectionCount('alice'), 0, 'untracked at once')
    for (const result of await codes) t.strictSame(result, { code: 4401, reason: 'token revoked' })
    t.equal(fx.app.wsAuth.disconnect('alice'), 0, 'nothing left to close')
    t.equal(fx.app.wsAuth.disconnect('nobody'), 0, 'an unknown subject')

    bob.send('hi')
    t.equal(await nextMessage(bob), 'You wrote: hi', "another subject's socket is untouched")
    bob.close()
  })

  t.test("disconnect(subject, 'withdrawn') closes with 4403", async (t) => {
    const socket = await open('carol')
    const result = closed(socket)
    t.equal(fx.app.wsAuth.disconnect('carol', 'withdrawn'), 1)
    t.strictSame(await result, { code: 4403, reason: 'access withdrawn' })
    // Disconnecting is not revoking: the same subject may connect again.
    const again = await open('carol')
    again.close()
  })

  t.test('disconnectToken(tokenId) closes only the sockets of that token', async (t) => {
    const one = fx.sign({ sub: 'dave' }, { jti: 'dave-1', expiresIn: 600 })
    const two = fx.sign({ sub: 'dave' }, { jti: 'dave-2', expiresIn: 600 })
    const a = await opened(fx.url(), bearer(one))
    const b = await opened(fx.url(`/ws?token=${one}`))
    const c = await opened(fx.url(), bearer(two))
    const closedA = closed(a.socket)
    const closedB = closed(b.socket)
    t.equal(fx.app.wsAuth.disconnectToken('dave-1'), 2)
    t.strictSame(await closedA, { code: 4401, reason: 'token revoked' })
    t.strictSame(await closedB, { code: 4401, reason: 'token revoked' })
    t.equal(fx.app.wsAuth.connectionCount('dave'), 1)
    const closedC = closed(c.socket)
    t.equal(fx.app.wsAuth.disconnectToken('dave-2', 'withdrawn'), 1)
    t.strictSame(await closedC, { code: 4403, reason: 'access withdrawn' })
    t.equal(fx.app.wsAuth.disconnectToken('no-such-id'), 0)
  })

  t.test('connectionCount() drops back to 0 once every socket has closed', async (t) => {
    const sockets = [await open('erin'), await open('frank'), await open('frank')]
    t.equal(fx.app.wsAuth.connectionCount(), 3)
    await Promise.all(sockets.map((socket) => {
      const done = closed(socket)
      socket.close(1000)
      return done
    }))
    await fx.serverSocketsClosed()
    t.equal(fx.app.wsAuth.connectionCount(), 0)
    t.equal(fx.app.wsAuth.connectionCount('frank'), 0)
    const terminated = await open('grace')
    terminated.terminate()
    await fx.serverSocketsClosed()
    t.equal(fx.app.wsAuth.connectionCount(), 0, 'a socket dropped without a closing handshake is untracked too')
    await stillServes(t, fx)
    await fx.serverSocketsClosed()
    t.equal(fx.app.wsAuth.connectionCount(), 0)
  })
})

t.test('revokeToken(jti, expiresAt)', async (t) => {
  const fx = await build(t, { guard: { query: true } })
  const token = fx.sign({ sub: 'alice' }, { jti: 'alice-1', expiresIn: 600 })
  const other = fx.sign({ sub: 'alice' }, { jti: 'alice-2', expiresIn: 600 })
  const { exp } = claimsOf(token)

  const a = await opened(fx.url(), bearer(token))
  const b = await opened(fx.url(), bearer(other))
  const closedA = closed(a.socket)
  // expiresAt is epoch milliseconds, as Identity.expiresAt: the token's exp * 1000.
  t.equal(await fx.app.wsAuth.revokeToken('alice-1', exp * 1000), 1, 'returns how many sockets it closed')
  t.strictSame(await closedA, { code: 4401, reason: 'token revoked' }, 'the live socket is closed')

  for (const [url, options] of [[fx.url(), bearer(token)], [fx.url(`/ws?token=${token}`), {}]] as const) {
    assertRefused(t, await refused(url, options), {
      status: 401,
      wwwAuthenticate: INVALID_TOKEN_CHALLENGE,
      body: { error: 'invalid_token', error_description: 'token revoked' },
    }, 'the handshake with the revoked token')
  }
  t.strictSame(await closedOnOpen(fx.url('/close-mode'), bearer(token)), { code: 4401, reason: 'invalid token' }, 'close mode')
  t.ok(await fx.app.wsAuth.denyList.has('alice-1'))

  b.socket.send('hi')
  t.equal(await nextMessage(b.socket), 'Welcome alice!')
  t.equal(await nextMessage(b.socket), 'You wrote: hi', 'another token of the same subject is untouched')
  b.socket.close()
  t.equal(await fx.app.wsAuth.revokeToken('never-connected', null), 0, 'revoking a token with no socket')
  t.ok(await fx.app.wsAuth.denyList.has('never-connected'))
  await stillServes(t, fx)
})

t.test('a denylist that is down: 503, and revokeToken rejects with unavailable', async (t) => {
  const fx = await build(t, {
    guard: {
      denyList: {
        async add () { throw new Error('redis: connection refused') },
        async has (tokenId) {
          if (tokenId === 'down') throw new Error('redis: connection refused')
          return false
        },
      },
    },
  })
  const refusal = await refused(fx.url(), bearer(fx.sign({ sub: 'alice' }, { jti: 'down' })))
  assertRefused(t, refusal, {
    status: 503, wwwAuthenticate: null, body: { error: 'temporarily_unavailable', error_description: 'try again later' },
  })
  t.notMatch(refusal.body, /redis/)
  await t.rejects(fx.app.wsAuth.revokeToken('x', null), { outcome: 'unavailable', code: 'ERR_WSAUTH_UNAVAILABLE' })
  await stillServes(t, fx)
})

t.test('verifyToken: the handshake check, for routes that take tokens another way', async (t) => {
  const fx = await build(t, {
    routes: (app) => {
      app.post('/check', async (request: FastifyRequest<{ Body: { token: string } }>, reply) => {
        try {
          return await app.wsAuth.verifyToken(request.body.token, request, 'first-message')
        } catch (error) {
          return reply.code(418).send({ outcome: (error as WsAuthError).outcome, message: (error as Error).message })
        }
      })
    },
  })
  const check = async (token: string): Promise<{ status: number, body: unknown }> => {
    const response = await fx.app.inject({ method: 'POST', url: '/check', payload: { token } })
    return { status: response.statusCode, body: response.json() }
  }
  const good = fx.sign({ sub: 'alice', scope: 'a b' }, { jti: 'v-1', expiresIn: 600 })
  const ok = await check(good)
  t.equal(ok.status, 200)
  t.match(ok.body as Identity, { subject: 'alice', scopes: ['a', 'b'], transport: 'first-message', tokenId: 'v-1' })
  t.strictSame(await check('junk'), { status: 418, body: { outcome: 'invalid', message: 'invalid token' } })
  await fx.app.wsAuth.revokeToken('v-1', null)
  t.strictSame(await check(good), { status: 418, body: { outcome: 'invalid', message: 'token revoked' } }, 'the denylist applies')
})
