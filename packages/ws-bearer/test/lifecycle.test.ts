// The live-socket lifecycle on every transport: monitoring events, expiry on time (real clock) and by the guard's
// clock, revocation that races a handshake, and the startup check for routes that need the in-band protocol.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t, { type Test } from 'tap'
import { MemoryDenyList, type DenyList } from '@wsauth/core'
import { CHANNELS, EXPIRY_TICK_MS, type InBandProtocol } from '@wsauth/ws-bearer'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { bearer, build, logCollector, stillServes } from '../../../test/helpers/index.ts'

function claimsOf (token: string): { exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }
}

/** Every event published on the guard's channels while the test runs, as `[channel, event]`. */
function recordEvents (t: Test): Array<[string, unknown]> {
  const events: Array<[string, unknown]> = []
  for (const name of Object.values(CHANNELS)) {
    const listener = (event: unknown): void => { events.push([name, event]) }
    subscribe(name, listener)
    t.teardown(() => { unsubscribe(name, listener) })
  }
  return events
}

t.test('events: authenticated, failed, revoked, expired; never a token', async (t) => {
  const fx = await build(t, { guard: { query: true, origins: ['http://app.example'] } })
  const events = recordEvents(t)
  const good = fx.sign({ sub: 'alice' }, { jti: 'a-1', expiresIn: 600 })
  const short = fx.sign({ sub: 'bob' }, { jti: 'b-1', expiresIn: 2 })
  const tokens = [good, short]

  const alice = await opened(fx.url(), bearer(good))
  t.equal(await nextMessage(alice.socket), 'Welcome alice!')
  const bob = await opened(fx.url(`/ws?token=${short}`))
  t.equal(await nextMessage(bob.socket), 'Welcome bob!')
  t.equal((await refused(fx.url())).status, 401)
  t.equal((await refused(fx.url(), bearer('junk'))).status, 401)
  t.equal((await refused(fx.url('/ws?token=a&token=b'))).status, 400)
  t.equal((await refused(fx.url(), { headers: { origin: 'http://evil.example', authorization: `Bearer ${good}` } })).status, 403)
  const aliceClosed = closed(alice.socket)
  fx.app.wsAuth.disconnect('alice', 'withdrawn')
  await aliceClosed
  await closed(bob.socket)

  const exp = (token: string): number => claimsOf(token).exp * 1000
  t.strictSame(events, [
    [CHANNELS.authenticated, { subject: 'alice', transport: 'bearer', tokenId: 'a-1', expiresAt: exp(good), route: '/ws', phase: 'handshake' }],
    [CHANNELS.authenticated, { subject: 'bob', transport: 'query', tokenId: 'b-1', expiresAt: exp(short), route: '/ws', phase: 'handshake' }],
    [CHANNELS.failed, { outcome: 'missing', transport: null, route: '/ws', phase: 'handshake' }],
    [CHANNELS.failed, { outcome: 'invalid', transport: 'bearer', route: '/ws', phase: 'handshake' }],
    [CHANNELS.failed, { outcome: 'malformed', transport: 'query', route: '/ws', phase: 'handshake' }],
    [CHANNELS.failed, { outcome: 'forbidden', transport: null, route: '/ws', phase: 'handshake' }],
    [CHANNELS.revoked, { subject: 'alice', transport: 'bearer', tokenId: 'a-1', expiresAt: exp(good), outcome: 'withdrawn' }],
    [CHANNELS.expired, { subject: 'bob', transport: 'query', tokenId: 'b-1', expiresAt: exp(short) }],
  ])
  const serialised = JSON.stringify(events)
  for (const token of tokens) t.notOk(serialised.includes(token), 'no token in any event')
})

t.test('a rejection is logged with its outcome, transport and phase, never the token', async (t) => {
  const { stream, lines } = logCollector()
  const fx = await build(t, { logger: { level: 'info', stream } })
  const token = fx.sign({ sub: 'carol' }, { expiresIn: -10 })
  t.equal((await refused(fx.url(), bearer(token))).status, 401)
  const line = lines.map((text) => JSON.parse(text) as { msg: string, wsAuth?: unknown })
    .find((entry) => entry.msg === 'websocket authentication rejected')
  t.match(line?.wsAuth, { outcome: 'invalid', code: 'ERR_WSAUTH_INVALID', transport: 'bearer', phase: 'handshake' })
  t.notOk(lines.some((text) => text.includes(token)))
})

t.test('a socket whose token expires is closed within a second of exp (real clock), on each transport', async (t) => {
  const fx = await build(t, { guard: { query: true } })
  // Two seconds: a one-second token can be signed milliseconds before its `exp` second ends.
  const token = fx.sign({ sub: 'dave' }, { expiresIn: 2 })
  const exp = claimsOf(token).exp * 1000
  const sockets = [(await opened(fx.url(), bearer(token))).socket, (await opened(fx.url(`/ws?token=${token}`))).socket]
  const closedAt = await Promise.all(sockets.map((socket) => closed(socket).then((result) => ({ result, at: Date.now() }))))
  for (const [i, { result, at }] of closedAt.entries()) {
    t.strictSame(result, { code: 4401, reason: 'token expired' }, ['Bearer', 'query'][i]!)
    t.ok(at >= exp, 'not before exp')
    t.ok(at - exp <= 1000, `within a second of exp (${at - exp} ms)`)
  }
})

t.test("the guard's clock decides expiry, at the handshake and on live sockets", async (t) => {
  let now = Date.now()
  const expiresAt = now + 60_000
  const fx = await build(t, {
    jwt: false,
    guard: { clock: () => now, verify: (token) => token === 'opaque' ? { subject: 'erin', expiresAt } : null },
  })
  const { socket } = await opened(fx.url(), bearer('opaque'))
  t.equal(await nextMessage(socket), 'Welcome erin!')
  now = expiresAt + EXPIRY_TICK_MS
  t.strictSame(await closed(socket), { code: 4401, reason: 'token expired' })
  t.equal((await refused(fx.url(), bearer('opaque'))).status, 401, 'expired by the same clock at the handshake')
})

t.test('a token revoked while its handshake is verified: the socket is closed as revoked once tracked', async (t) => {
  const memory = new MemoryDenyList()
  let holdNext: { reached: () => void, until: Promise<void> } | null = null
  const denyList: DenyList = {
    add: (tokenId, expiresAt) => memory.add(tokenId, expiresAt),
    async has (tokenId) {
      const answer = await memory.has(tokenId)
      const hold = holdNext
      holdNext = null
      if (hold !== null) {
        hold.reached()
        await hold.until
      }
      return answer
    },
  }
  const fx = await build(t, { guard: { denyList } })
  let release!: () => void
  const reached = new Promise<void>((resolve) => {
    holdNext = { reached: resolve, until: new Promise((resolve) => { release = resolve }) }
  })
  const token = fx.sign({ sub: 'frank' }, { jti: 'f-1', expiresIn: 600 })
  const connecting = opened(fx.url(), bearer(token))
  await reached
  t.equal(await fx.app.wsAuth.revokeToken('f-1', claimsOf(token).exp * 1000), 0, 'no socket to close yet')
  release()
  const { socket } = await connecting
  t.strictSame(await closed(socket), { code: 4401, reason: 'token revoked' })
  t.equal(fx.app.wsAuth.connectionCount('frank'), 0)
  await stillServes(t, fx)
})

t.test('routes that take credentials in band need the in-band protocol', async (t) => {
  for (const wsAuth of [{ firstMessage: true }, { refresh: true }]) {
    await t.rejects(build(t, {
      routes: (app) => { app.get('/in-band', { websocket: true, config: { wsAuth } }, () => {}) },
    }), /\/in-band takes credentials in band \(firstMessage or refresh\); register @wsauth\/first-message/)
  }
  const fx = await build(t)
  const protocol: InBandProtocol = {
    expiringNoticeMs: 0,
    discovery: { timeoutMs: 1, maxPayload: 1, expiringNoticeMs: 0, messages: { typeKey: 't', tokenKey: 'k', auth: 'a', refresh: 'r', ok: 'o', expiring: 'e' } },
    awaitCredential: () => Promise.reject(new Error('unused')),
    open: () => () => {},
    expiring: () => {},
  }
  fx.app.wsAuth.registerInBandProtocol(protocol)
  t.throws(() => fx.app.wsAuth.registerInBandProtocol(protocol), /an in-band protocol is already registered/)
})

t.test('a token that expires between its verification and the upgrade: closed as expired, never handed to the app', async (t) => {
  let now = Date.now()
  const fx = await build(t, {
    jwt: false,
    guard: { clock: () => now, verify: (token) => token === 'opaque' ? { subject: 'grace', expiresAt: now + 1000 } : null },
    routes: (app) => {
      // A later preValidation hook that takes its time: the token expires while it runs.
      app.get('/slow', { websocket: true, preValidation: async () => { now += 2000 } }, () => { t.fail('the app got the socket') })
    },
  })
  const { socket } = await opened(fx.url('/slow'), bearer('opaque'))
  t.strictSame(await closed(socket), { code: 4401, reason: 'token expired' })
  t.equal(fx.app.wsAuth.connectionCount(), 0)
  const again = await opened(fx.url(), bearer('opaque'))
  t.equal(await nextMessage(again.socket), 'Welcome grace!', 'the server still serves')
  again.socket.close()
})

t.test('a denylist that is down when a raced revocation is checked again: 1013', async (t) => {
  let calls = 0
  let release!: () => void
  let reached!: () => void
  const held = new Promise<void>((resolve) => { reached = resolve })
  const denyList: DenyList = {
    async add () {},
    async has () {
      calls++
      if (calls > 1) throw new Error('redis: connection refused')
      reached()
      await new Promise<void>((resolve) => { release = resolve })
      return false
    },
  }
  const fx = await build(t, { guard: { denyList } })
  const connecting = opened(fx.url(), bearer(fx.sign({ sub: 'heidi' }, { jti: 'h-1', expiresIn: 600 })))
  await held
  await fx.app.wsAuth.revokeToken('h-1', null)
  release()
  const { socket } = await connecting
  t.strictSame(await closed(socket), { code: 1013, reason: 'try again later' })
  t.equal(fx.app.wsAuth.connectionCount(), 0)
})
