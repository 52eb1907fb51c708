// A token about to expire, against a real server whose guard clock the test moves forward (no waiting for a TTL):
// on a refresh route the client answers `auth.expiring` in band; elsewhere it reconnects with a fresh token first.
import t from 'tap'
import WebSocket from 'ws'
import { connect, type WsAuthClient, type WsAuthCloseEvent, type WsAuthErrorEvent } from '@wsauth/client'
import {
  EXPIRING_NOTICE_MS, ManualTimers, TOKEN_TTL_SECONDS, fixtureDiscovery, messages, nextEvent, reaches, refreshed, startServer, tokenSource,
  type Server,
} from './fixture.ts'
import { closed, opened } from '../../../test/helpers/ws.ts'

const TTL_MS = TOKEN_TTL_SECONDS * 1000

/** Everything the app was handed. */
function appMessages (client: WsAuthClient): unknown[] {
  const seen: unknown[] = []
  client.addEventListener('message', (event) => seen.push(event.data))
  return seen
}

/**
 * A plain ws socket on /plain with a token signed now: once the server closes it as expired, its expiry sweep has
 * passed every token signed before it.
 */
async function canary (server: Server): Promise<() => Promise<{ code: number, reason: string }>> {
  const { socket } = await opened(server.url('/plain'), { headers: { authorization: `Bearer ${server.sign('canary')}` } })
  const done = closed(socket)
  return () => done
}

t.test('refresh on: auth.expiring → a fresh token → auth.refresh on the same socket; the app sees none of it', async (t) => {
  const server = await startServer(t)
  const source = tokenSource(server)
  const client = connect(server.url('/ws'), { ...source, WebSocket })
  t.teardown(() => client.close())
  const seen = appMessages(client)
  await reaches(client, 'open')
  const expired = await canary(server)

  const done = refreshed()
  server.skew(TTL_MS - EXPIRING_NOTICE_MS + 1000)
  await done
  t.strictSame(source.reasons, ['connect', 'expiring'])
  // Past the first token's exp: without the refresh the server would close the socket now (4401 token expired).
  server.skew(EXPIRING_NOTICE_MS + 60_000)
  t.match(await expired(), { code: 4401, reason: 'token expired' }, 'the server swept past the old token\'s expiry')
  t.equal(client.state, 'open', 'still open')
  const echo = messages(client, 1)
  client.send('still here')
  t.strictSame(await echo, ['You wrote: still here'])
  t.equal(server.handshakes, 2, 'no reconnect: the client\'s one socket and the canary')
  t.strictSame(seen, ['Welcome alice via bearer!', 'You wrote: still here'], 'no auth.expiring, no auth.ok')
})

t.test('refresh off: the client reconnects with a fresh token before exp, and loses no queued message', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const source = tokenSource(server)
  const client = connect(server.url('/plain'), { ...source, WebSocket, timers })
  t.teardown(() => client.close())
  const seen = appMessages(client)
  await reaches(client, 'open')
  // The renewal is due the server's notice (30 s) before exp: about TTL − 30 s from now.
  const renewal = (ms: number): boolean => ms > TTL_MS - EXPIRING_NOTICE_MS - 5000 && ms <= TTL_MS - EXPIRING_NOTICE_MS
  t.ok(timers.delays.some(renewal), 'a renewal is scheduled')
  const reopened = messages(client, 3)
  timers.fire(renewal)
  client.send('during 1')
  client.send('during 2')
  t.strictSame(await reopened, ['Welcome alice via bearer!', 'You wrote: during 1', 'You wrote: during 2'])
  t.strictSame(source.reasons, ['connect', 'expiring'])
  t.not(source.tokens[0], source.tokens[1])
  t.equal(server.handshakes, 2)
  t.strictSame(server.received, ['/plain during 1', '/plain during 2'])
  t.strictSame(seen, ['Welcome alice via bearer!', 'Welcome alice via bearer!', 'You wrote: during 1', 'You wrote: during 2'])
})

t.test('first message: the expiry comes from auth.ok, and the server\'s notice drives the refresh', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const source = tokenSource(server)
  const client = connect(server.url('/fm'), { ...source, WebSocket, timers, transport: 'first-message' })
  t.teardown(() => client.close())
  const seen = appMessages(client)
  await reaches(client, 'open')
  t.notOk(timers.delays.some((ms) => ms > 60_000), 'no renewal timer of its own: the server sends auth.expiring')
  const done = refreshed()
  server.skew(TTL_MS - EXPIRING_NOTICE_MS + 1000)
  await done
  t.strictSame(source.reasons, ['connect', 'expiring'])
  const echo = messages(client, 1)
  client.send('after refresh')
  t.strictSame(await echo, ['You wrote: after refresh'])
  t.strictSame(seen, ['Welcome alice via first-message!', 'You wrote: after refresh'])
  t.equal(server.handshakes, 1)
})

t.test('a refresh route without server notices: the client refreshes in band on its own timer', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const source = tokenSource(server)
  const silent = fixtureDiscovery()
  silent.inBand!.expiringNoticeMs = 0
  const client = connect(server.url('/ws'), { ...source, WebSocket, timers, discovery: silent, renewBeforeMs: 45_000 })
  t.teardown(() => client.close())
  await reaches(client, 'open')
  const renewal = (ms: number): boolean => ms > TTL_MS - 45_000 - 5000 && ms <= TTL_MS - 45_000
  const done = refreshed()
  timers.fire(renewal)
  await done
  const echo = messages(client, 1)
  client.send('refreshed')
  t.strictSame(await echo, ['You wrote: refreshed'])
  t.equal(server.handshakes, 1, 'in band, no reconnect')
  t.strictSame(source.reasons, ['connect', 'expiring'])
})

t.test('a lifetime shorter than the margin: renew at half of it, not in a loop', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const client = connect(server.url('/plain'), { ...tokenSource(server), WebSocket, timers, renewBeforeMs: 3_600_000 })
  t.teardown(() => client.close())
  await reaches(client, 'open')
  t.ok(timers.delays.some((ms) => ms > TTL_MS / 2 - 5000 && ms <= TTL_MS / 2), 'half the token\'s remaining life')
})

t.test('the token expires on a live socket anyway (4401 token expired): one immediate retry', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const source = tokenSource(server)
  const client = connect(server.url('/plain'), { ...source, WebSocket, timers })
  t.teardown(() => client.close())
  await reaches(client, 'open')
  const again = messages(client, 1)
  server.skew(TTL_MS + 60_000)
  t.strictSame(await again, ['Welcome alice via bearer!'])
  t.strictSame(source.reasons, ['connect', 'unauthorized'])
})

t.test('a refresh the app cannot pay for', async (t) => {
  await t.test('getToken throws: reported; the socket lives until the server closes it', async (t) => {
    const server = await startServer(t)
    let calls = 0
    const client = connect(server.url('/ws'), {
      WebSocket,
      getToken: async () => {
        if (++calls === 2) throw new Error('refresh token endpoint down')
        return server.sign('alice')
      },
    })
    t.teardown(() => client.close())
    await reaches(client, 'open')
    const error = nextEvent<WsAuthErrorEvent>(client, 'error')
    server.skew(TTL_MS - EXPIRING_NOTICE_MS + 1000)
    t.match((await error).error, { code: 'token', message: "the app's credential source failed (expiring)" })
    t.equal(client.state, 'open')
  })

  await t.test('getToken resolves null: signed out, closed', async (t) => {
    const server = await startServer(t)
    let calls = 0
    const client = connect(server.url('/ws'), { WebSocket, getToken: async () => ++calls === 1 ? server.sign('alice') : null })
    await reaches(client, 'open')
    const [serverSocket] = server.app.websocketServer.clients
    const serverSide = new Promise((resolve) => serverSocket!.once('close', resolve))
    const closedEvent = nextEvent<WsAuthCloseEvent>(client, 'close')
    server.skew(TTL_MS - EXPIRING_NOTICE_MS + 1000)
    t.match(await closedEvent, { reason: 'signed-out', code: 1000 })
    t.equal(await serverSide, 1000, 'the client closed its socket')
  })
})
