// Authentication by the first message, over real TCP: the happy path, message order, and every close code.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t from 'tap'
import WebSocket from 'ws'
import { CHANNELS, type FailedEvent } from '@wsauth/ws-bearer'
import { closed, echoesThenCloses, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import {
  authMessage, authenticated, build, claimsOf, closedWith, parsed, sendInOneWrite, stillServes,
} from './fixture.ts'

t.test('auth message → auth.ok with the expiry, then the app gets the socket', async (t) => {
  const fx = await build(t)
  const token = fx.sign('alice', { jti: 'a-1' })
  const { socket } = await opened(fx.url('/fm'))
  t.equal(fx.handled, 0, 'the app has no socket before authentication')
  socket.send(authMessage(token))
  t.strictSame(parsed(await nextMessage(socket)), { type: 'auth.ok', expiresAt: claimsOf(token).exp * 1000 })
  t.equal(await nextMessage(socket), 'Welcome alice!')
  socket.send('hello')
  t.equal(await nextMessage(socket), 'You wrote: hello')
  t.equal(fx.app.wsAuth.connectionCount('alice'), 1, 'tracked like any authenticated socket')
  t.strictSame(fx.received, ['/fm hello'], 'the auth message never reached the app')
  socket.close()
})

t.test('request.identity says the credential came by first message', async (t) => {
  const fx = await build(t)
  const token = fx.sign('bob', { jti: 'b-1', scope: 'chat read' })
  const { socket } = await opened(fx.url('/fm-identity'))
  socket.send(authMessage(token))
  t.equal(parsed(await nextMessage(socket)).type, 'auth.ok')
  t.match(JSON.parse(await nextMessage(socket)), {
    subject: 'bob', scopes: ['chat', 'read'], transport: 'first-message', tokenId: 'b-1', expiresAt: claimsOf(token).exp * 1000,
  })
  socket.close()
})

t.test('messages pipelined right behind the auth message reach the app, in order, after it has the socket', async (t) => {
  const fx = await build(t)
  for (const path of ['/fm', '/fm-only']) {
    const { socket } = await opened(fx.url(path))
    const messages = Array.from({ length: 50 }, (_, i) => `message ${i}`)
    sendInOneWrite(socket, [authMessage(fx.sign('carol')), ...messages])
    t.equal(parsed(await nextMessage(socket)).type, 'auth.ok', `${path}: auth.ok first`)
    t.equal(await nextMessage(socket), 'Welcome carol!', `${path}: then the welcome`)
    for (const message of messages) t.equal(await nextMessage(socket), `You wrote: ${message}`)
    t.strictSame(fx.received.filter((line) => line.startsWith(`${path} `)), messages.map((message) => `${path} ${message}`),
      `${path}: the app received every message once, in order`)
    socket.send('and later')
    t.equal(await nextMessage(socket), 'You wrote: and later', `${path}: reading resumed`)
    socket.close()
  }
})

t.test('messages sent one by one right behind the auth message keep their order too', async (t) => {
  const fx = await build(t)
  const { socket } = await opened(fx.url('/fm'))
  socket.send(authMessage(fx.sign('dave')))
  for (let i = 0; i < 20; i++) socket.send(`m${i}`)
  t.equal(parsed(await nextMessage(socket)).type, 'auth.ok')
  t.equal(await nextMessage(socket), 'Welcome dave!')
  for (let i = 0; i < 20; i++) t.equal(await nextMessage(socket), `You wrote: m${i}`)
  socket.close()
})

t.test('no auth message before the deadline: 4408', async (t) => {
  const fx = await build(t, { firstMessage: { timeoutMs: 150 } })
  const { socket } = await opened(fx.url('/fm'))
  await closedWith(t, socket, 4408, 'authentication timeout', 'silence')
  t.equal(fx.handled, 0)
  // A probe by first message would race this short deadline itself: the probe authenticates in the handshake.
  const probe = await opened(fx.url('/ws'), { headers: { authorization: `Bearer ${fx.sign('probe')}` } })
  t.equal(await nextMessage(probe.socket), 'Welcome probe!', 'the server still serves')
  await echoesThenCloses(t, probe.socket)
})

t.test('a first message over the pre-auth limit: 1009; after auth.ok the server limit applies again', async (t) => {
  const fx = await build(t, { firstMessage: { maxPayload: 1024 } })
  const big = await opened(fx.url('/fm'))
  big.socket.send('x'.repeat(1025))
  t.equal((await closed(big.socket)).code, 1009, 'one byte over the limit')
  const padded = await opened(fx.url('/fm'))
  const token = fx.sign('erin')
  const unpadded = JSON.stringify({ type: 'auth', token, pad: '' }).length
  const auth = JSON.stringify({ type: 'auth', token, pad: 'p'.repeat(1024 - unpadded) })
  t.equal(Buffer.byteLength(auth), 1024, 'an auth message of exactly the limit')
  padded.socket.send(auth)
  t.equal(parsed(await nextMessage(padded.socket)).type, 'auth.ok', 'is accepted')
  t.equal(await nextMessage(padded.socket), 'Welcome erin!')
  const large = 'y'.repeat(64 * 1024)
  padded.socket.send(large)
  t.equal(await nextMessage(padded.socket), `You wrote: ${large}`, 'a 64 KiB message after authentication')
  padded.socket.close()
  t.equal(fx.handled, 1)
  await stillServes(t, fx)
})

t.test('a message pipelined behind the auth message counts as pre-auth: over the limit, 1009', async (t) => {
  const fx = await build(t, { firstMessage: { maxPayload: 1024 } })
  const { socket } = await opened(fx.url('/fm'))
  sendInOneWrite(socket, [authMessage(fx.sign('frank')), 'z'.repeat(2048)])
  t.equal((await closed(socket)).code, 1009)
  t.equal(fx.handled, 0, 'the app never had the socket')
  await stillServes(t, fx)
})

t.test("the pre-auth limit never raises the server's own", async (t) => {
  const fx = await build(t, { serverMaxPayload: 512 })
  const { socket } = await opened(fx.url('/fm'))
  socket.send('x'.repeat(513))
  t.equal((await closed(socket)).code, 1009)
  await stillServes(t, fx)
})

t.test('anything but an auth message first: 4401; an auth message without a usable token: 4400', async (t) => {
  const fx = await build(t, { guard: { maxCredentialLength: 300 } })
  const cases: Array<[string, string | Buffer, number, string]> = [
    ['plain text', 'hello', 4401, 'unauthorized'],
    ['binary', Buffer.from(authMessage('abc')), 4401, 'unauthorized'],
    ['not JSON', '{"type":"auth",', 4401, 'unauthorized'],
    ['JSON, not an object', '["auth"]', 4401, 'unauthorized'],
    ['another type', JSON.stringify({ type: 'chat', token: 'abc' }), 4401, 'unauthorized'],
    ['a refresh first', JSON.stringify({ type: 'auth.refresh', token: 'abc' }), 4401, 'unauthorized'],
    ['type inherited, not own', '{"__proto__":{"type":"auth"},"token":"abc"}', 4401, 'unauthorized'],
    ['no token', JSON.stringify({ type: 'auth' }), 4400, 'bad request'],
    ['empty token', JSON.stringify({ type: 'auth', token: '' }), 4400, 'bad request'],
    ['token not a string', JSON.stringify({ type: 'auth', token: 42 }), 4400, 'bad request'],
    ['token over the length cap', authMessage('a'.repeat(301)), 4400, 'bad request'],
  ]
  for (const [name, message, code, reason] of cases) {
    const { socket } = await opened(fx.url('/fm'))
    socket.send(message)
    await closedWith(t, socket, code, reason, name)
  }
  t.equal(fx.handled, 0, 'the app never had any of them')
  t.strictSame(fx.received, [])
  await stillServes(t, fx)
})

t.test('tokens that fail verification: 4401, never 1011', async (t) => {
  const fx = await build(t)
  const revoked = fx.sign('grace', { jti: 'revoked-1' })
  await fx.app.wsAuth.revokeToken('revoked-1', claimsOf(revoked).exp * 1000)
  const forged = `${fx.sign('grace').slice(0, -4)}AAAA`
  const cases: Array<[string, string]> = [
    ['junk', 'not-a-jwt'],
    ['bad signature', forged],
    ['expired', fx.sign('grace', { expiresIn: -10 })],
    ['revoked', revoked],
  ]
  for (const [name, token] of cases) {
    const { socket } = await opened(fx.url('/fm'))
    socket.send(authMessage(token))
    await closedWith(t, socket, 4401, 'invalid token', name)
  }
  t.equal(fx.handled, 0)
  await stillServes(t, fx)
})

t.test('authenticated but not allowed: 4403', async (t) => {
  const fx = await build(t)
  const { socket } = await opened(fx.url('/fm-admin'))
  socket.send(authMessage(fx.sign('heidi', { scope: 'chat' })))
  await closedWith(t, socket, 4403, 'forbidden', 'no admin scope')
  const admin = await authenticated(t, fx, '/fm-admin', fx.sign('ivan', { scope: 'admin' }))
  admin.close()
  await stillServes(t, fx)
})

t.test('a verifier that throws is a bug: 1011, and the server keeps serving', async (t) => {
  const fx = await build(t, {
    guard: {
      verify: (token) => {
        if (token === 'boom') throw new Error('database exploded')
        return { subject: token }
      },
    },
  })
  const { socket } = await opened(fx.url('/fm'))
  socket.send(authMessage('boom'))
  await closedWith(t, socket, 1011, 'internal error', 'bug')
  const good = await opened(fx.url('/fm'))
  good.socket.send(authMessage('probe'))
  t.equal(parsed(await nextMessage(good.socket)).type, 'auth.ok')
  t.equal(await nextMessage(good.socket), 'Welcome probe!')
  good.socket.close()
})

t.test('a handshake that carries a credential is verified as usual on a first-message route', async (t) => {
  const fx = await build(t)
  const { socket } = await opened(fx.url('/fm'), { headers: { authorization: `Bearer ${fx.sign('judy')}` } })
  t.equal(await nextMessage(socket), 'Welcome judy!', 'no auth.ok: the client did not authenticate in band')
  const later = authMessage(fx.sign('judy'))
  socket.send(later)
  t.equal(await nextMessage(socket), `You wrote: ${later}`, "a later auth message is the app's")
  socket.close()
  t.equal((await refused(fx.url('/fm'), { headers: { authorization: 'Bearer junk' } })).status, 401, 'a bad one is refused at the handshake')
  t.equal((await refused(fx.url('/plain'))).status, 401, 'routes without firstMessage still need a credential')
})

t.test('the Origin allowlist applies before the upgrade', async (t) => {
  const fx = await build(t, { guard: { origins: ['http://app.example'] } })
  t.equal((await refused(fx.url('/fm'), { headers: { origin: 'http://evil.example' } })).status, 403)
  const { socket } = await opened(fx.url('/fm'), { headers: { origin: 'http://app.example' } })
  socket.send(authMessage(fx.sign('kim')))
  t.equal(parsed(await nextMessage(socket)).type, 'auth.ok')
  socket.close()
})

t.test('clients that leave before authenticating', async (t) => {
  const fx = await build(t)
  const silent = await opened(fx.url('/fm'))
  const done = closed(silent.socket)
  silent.socket.close(1000)
  t.equal((await done).code, 1000, 'a clean close before the auth message')
  const dropped = await opened(fx.url('/fm'))
  dropped.socket.send(authMessage(fx.sign('leo')))
  dropped.socket.terminate()
  const cut = await opened(fx.url('/fm'))
  cut.socket.terminate()
  await stillServes(t, fx)
})

t.test('failures are published on wsauth:failed with outcome and transport, never the token', async (t) => {
  const fx = await build(t)
  // The silent socket's own app: a short deadline there cannot cut the other socket's auth message short.
  const shortDeadline = await build(t, { firstMessage: { timeoutMs: 150 } })
  const events: FailedEvent[] = []
  const listener = (event: unknown): void => { events.push(event as FailedEvent) }
  subscribe(CHANNELS.failed, listener)
  t.teardown(() => { unsubscribe(CHANNELS.failed, listener) })

  const token = fx.sign('mallory', { expiresIn: -10 })
  const expired = await opened(fx.url('/fm'))
  expired.socket.send(authMessage(token))
  await closed(expired.socket)
  const silent = await opened(shortDeadline.url('/fm'))
  await closed(silent.socket)
  t.strictSame(events, [
    { outcome: 'invalid', transport: 'first-message', route: '/fm', phase: 'first-message' },
    { outcome: 'timeout', transport: 'first-message', route: '/fm', phase: 'first-message' },
  ])
  t.notOk(JSON.stringify(events).includes(token), 'no token in any event')
})

t.test("a socket authenticated by first message is closed when its token expires, by the guard's clock", async (t) => {
  let now = Date.now()
  const fx = await build(t, { guard: { clock: () => now } })
  const early = fx.sign('olivia', { expiresIn: 600 })
  const late = fx.sign('oscar', { expiresIn: 1200 })
  const earlySocket = await authenticated(t, fx, '/fm', early)
  const lateSocket = await authenticated(t, fx, '/fm', late)
  const lateClosed = closed(lateSocket)
  // A minute before the later exp (outside the notice window): the sweep that closes the early socket leaves it open.
  now = claimsOf(late).exp * 1000 - 60_000
  t.strictSame(await closed(earlySocket), { code: 4401, reason: 'token expired' }, 'past its exp: closed')
  lateSocket.send('still here')
  t.equal(await nextMessage(lateSocket), 'You wrote: still here', 'not before its exp')
  now = claimsOf(late).exp * 1000
  t.strictSame(await lateClosed, { code: 4401, reason: 'token expired' }, 'at its exp: closed')
})

t.test('a ws without a per-socket Receiver limit fails closed: 1011, never an unlimited pre-auth socket', async (t) => {
  const fx = await build(t)
  const prototype = WebSocket.prototype as unknown as { setSocket (...args: unknown[]): void, _receiver: Record<string, unknown> }
  const setSocket = prototype.setSocket
  prototype.setSocket = function withoutLimit (this: typeof prototype, ...args: unknown[]) {
    setSocket.apply(this, args)
    delete this._receiver._maxPayload
  }
  t.teardown(() => { prototype.setSocket = setSocket })
  const { socket } = await opened(fx.url('/fm'))
  await closedWith(t, socket, 1011, 'internal error', 'no _maxPayload')
  prototype.setSocket = setSocket
  await stillServes(t, fx)
})

t.test('with no server limit (maxPayload 0), the pre-auth limit still applies', async (t) => {
  const fx = await build(t, { serverMaxPayload: 0 })
  const { socket } = await opened(fx.url('/fm'))
  socket.send('x'.repeat(4097))
  t.equal((await closed(socket)).code, 1009)
  await stillServes(t, fx)
})
