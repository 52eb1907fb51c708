// What the client does when a socket closes, against real wsauth servers over TCP. Every wait of the client's own
// (backoff, stability) runs on ManualTimers, fired by the test: no assertion depends on the wall clock.
import t from 'tap'
import type { DiscoveryDocument } from '@wsauth/core'
import WebSocket from 'ws'
import { connect, type WsAuthClient, type WsAuthCloseEvent, type WsAuthErrorEvent } from '@wsauth/client'
import { ManualTimers, messages, nextEvent, reaches, startServer, tokenSource } from './fixture.ts'

const STABLE_MS = 7777
const REQUEST_TIMEOUT_MS = 60_000

function states (client: WsAuthClient): string[] {
  const seen: string[] = []
  client.addEventListener('state', (event) => seen.push(event.state))
  return seen
}

t.test('a server restarted mid-session: reconnect with a new token, and no queued message is lost', async (t) => {
  const first = await startServer(t)
  const timers = new ManualTimers()
  const source = tokenSource(first)
  const client = connect(first.url('/ws'), {
    ...source, WebSocket, timers, random: () => 1, backoff: { baseMs: 500 }, requestTimeoutMs: REQUEST_TIMEOUT_MS,
  })
  t.teardown(() => client.close())
  const welcome = messages(client, 2)
  client.send('before')
  t.strictSame(await welcome, ['Welcome alice via bearer!', 'You wrote: before'])

  await first.close()
  await reaches(client, 'reconnecting')
  t.strictSame(timers.delays.filter((ms) => ms !== STABLE_MS && ms !== 10_000), [500], 'one backoff wait, base × 2⁰ × random()')
  client.send('while down 1')
  client.send('while down 2')

  const second = await startServer(t, { port: first.port })
  const after = messages(client, 3)
  timers.fire(500)
  t.strictSame(await after, ['Welcome alice via bearer!', 'You wrote: while down 1', 'You wrote: while down 2'])
  t.strictSame(second.received, ['/ws while down 1', '/ws while down 2'], 'the new server got the queue, in order')
  t.strictSame(source.reasons, ['connect', 'reconnect'])
  t.not(source.tokens[0], source.tokens[1], 'a new token')
  t.equal(client.state, 'open')
})

t.test('a 4401 on a live socket: exactly one getToken call, then open, with no wait', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const source = tokenSource(server)
  const client = connect(server.url('/ws'), { ...source, WebSocket, timers })
  t.teardown(() => client.close())
  await reaches(client, 'open')
  const seen = states(client)
  const reopened = messages(client, 1)
  t.equal(server.app.wsAuth.disconnect('alice'), 1, 'the server closes it: 4401 token revoked')
  t.strictSame(await reopened, ['Welcome alice via bearer!'])
  t.strictSame(source.reasons, ['connect', 'unauthorized'], 'one more getToken call, for the 4401')
  t.strictSame(seen, ['connecting', 'open'], 'straight back, no reconnecting wait')
  t.equal(server.handshakes, 2)
})

t.test('4401 twice in a row: the second waits for the backoff', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const source = tokenSource(server)
  // The first token is good; every later one is refused (HTTP 401, which Node sees as 4401).
  const client = connect(server.url('/ws'), {
    WebSocket,
    timers,
    random: () => 0.5,
    backoff: { baseMs: 1000, stableMs: STABLE_MS },
    getToken: async (context) => source.tokens.length === 0 ? source.getToken(context) : 'not-a-jwt',
  })
  t.teardown(() => client.close())
  await reaches(client, 'open')
  server.app.wsAuth.disconnect('alice')
  await reaches(client, 'reconnecting')
  t.equal(server.handshakes, 2, 'one immediate retry, refused')
  t.ok(timers.delays.includes(500), 'then a backoff wait: random() × base')
  timers.fire(500)
  await reaches(client, 'reconnecting')
  t.equal(server.handshakes, 3)
  t.ok(timers.delays.includes(1000), 'doubling: random() × base × 2')
})

t.test('a 4403: closed, reported, and no further attempt', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  for (const [path, code, serverReason] of [['/ws', 4403, ''], ['/close', 4403, 'forbidden']] as const) {
    const before = server.handshakes
    const client = connect(server.url(path), { ...tokenSource(server, 'mallory'), WebSocket, timers })
    const closed = await nextEvent<WsAuthCloseEvent>(client, 'close')
    t.match(closed, { code, reason: 'forbidden', serverReason }, `${path}: ${code} ${serverReason}`)
    t.equal(client.state, 'closed')
    t.strictSame(timers.delays, [], 'no timer left: nothing will try again')
    t.equal(server.handshakes, before + 1, 'one handshake')
  }
  t.equal(server.app.wsAuth.connectionCount(), 0)
})

t.test('access withdrawn on a live socket (4403): closed, with the reason', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const client = connect(server.url('/ws'), { ...tokenSource(server), WebSocket, timers })
  await reaches(client, 'open')
  const closed = nextEvent<WsAuthCloseEvent>(client, 'close')
  server.app.wsAuth.disconnect('alice', 'withdrawn')
  t.match(await closed, { code: 4403, reason: 'forbidden', serverReason: 'access withdrawn' })
  t.strictSame(timers.delays, [])
})

t.test('backoff: full jitter under an exponential bound, capped, reset after a stable period, and a limit', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const randoms = [0.25, 0.5, 1, 1, 0.1]
  const client = connect(server.url('/ws'), {
    ...tokenSource(server),
    WebSocket,
    timers,
    random: () => randoms.shift() ?? 1,
    backoff: { baseMs: 1000, capMs: 3000, attempts: 6, stableMs: STABLE_MS },
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  })
  t.teardown(() => client.close())
  await reaches(client, 'open')
  const port = server.port
  await server.close()

  // Each attempt fails at discovery (nothing listens): the delay bound doubles, 1000, 2000, then the 3000 cap.
  const delays: number[] = []
  const errors: string[] = []
  client.addEventListener('error', (event) => errors.push(event.error.code))
  const nextDelay = (): number => timers.delays.find((ms) => ms !== STABLE_MS && ms !== REQUEST_TIMEOUT_MS)!
  for (let attempt = 0; attempt < 4; attempt++) {
    await reaches(client, 'reconnecting')
    delays.push(nextDelay())
    timers.fire(delays.at(-1)!)
    await reaches(client, 'connecting')
  }
  await reaches(client, 'reconnecting')
  delays.push(nextDelay())
  t.strictSame(delays, [250, 1000, 3000, 3000, 300], 'random() × min(cap, base × 2ⁿ)')
  t.strictSame(errors, ['unreachable', 'unreachable', 'unreachable', 'unreachable'], 'each failed attempt is reported')

  const restarted = await startServer(t, { port })
  timers.fire(300)
  await reaches(client, 'open')
  timers.fire(STABLE_MS)
  // Stable: the count starts over, so the next loss waits base × 2⁰ again.
  await restarted.close()
  await reaches(client, 'reconnecting')
  t.ok(timers.delays.includes(1000), 'after a stable period the bound is back to the base')
})

t.test('attempts run out: closed as gave-up', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const client = connect(server.url('/ws'), {
    ...tokenSource(server), WebSocket, timers, random: () => 1, backoff: { baseMs: 100, attempts: 2 },
  })
  await reaches(client, 'open')
  await server.close()
  await reaches(client, 'reconnecting')
  timers.fire(100)
  await reaches(client, 'reconnecting')
  const closed = nextEvent<WsAuthCloseEvent>(client, 'close')
  timers.fire(200)
  t.match(await closed, { reason: 'gave-up', code: 1006 })
})

t.test('the server ends the session with 1000: no retry', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  server.app.websocketServer.on('connection', (socket: WebSocket) => {
    socket.on('message', (data) => { if (String(data) === 'bye') socket.close(1000, 'see you') })
  })
  const client = connect(server.url('/ws'), { ...tokenSource(server), WebSocket, timers })
  const closed = nextEvent<WsAuthCloseEvent>(client, 'close')
  client.send('bye')
  t.match(await closed, { code: 1000, reason: 'server', serverReason: 'see you' })
  t.strictSame(timers.delays, [])
})

t.test('a socket that cannot connect is reported with its URL', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  // Discovery answers; the socket's own port is another, where nothing listens.
  const document = await (await fetch(`http://127.0.0.1:${server.port}/.well-known/wsauth`)).json() as DiscoveryDocument
  const client = connect('ws://127.0.0.1:1/ws', { ...tokenSource(server), WebSocket, timers, discovery: document })
  const error = await nextEvent<WsAuthErrorEvent>(client, 'error')
  t.match(error.error, { code: 'connect', message: 'ws://127.0.0.1:1/ws: could not connect' })
  await reaches(client, 'reconnecting')
  client.close()
})

t.test('getToken resolving null stops the client; throwing is retried', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  let calls = 0
  const client = connect(server.url('/ws'), {
    WebSocket,
    timers,
    random: () => 1,
    backoff: { baseMs: 100 },
    getToken: async () => {
      calls++
      if (calls === 1) throw new Error('token endpoint down')
      return null
    },
  })
  const error = await nextEvent<WsAuthErrorEvent>(client, 'error')
  t.match(error.error, { code: 'token', message: "the app's credential source failed (connect)" })
  t.equal(error.error.cause instanceof Error && error.error.cause.message, 'token endpoint down', 'the cause is kept')
  await reaches(client, 'reconnecting')
  const closed = nextEvent<WsAuthCloseEvent>(client, 'close')
  timers.fire(100)
  t.match(await closed, { reason: 'signed-out' })
  t.equal(server.handshakes, 0)
})
