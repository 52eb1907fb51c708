// 4429: the client waits at least the server's hint. Node in HTTP mode reads it from the 429's Retry-After; a socket
// in close mode (what a page sees) reads it from the close reason, `too many requests; retry-after=30`.
import t from 'tap'
import WebSocket from 'ws'
import { connect } from '@wsauth/client'
import { ManualTimers, nextEvent, reaches, startServer, tokenSource } from './fixture.ts'
import { closed, opened, refused } from '../../../test/helpers/ws.ts'

t.test('the guard answers a rate-limited handshake with the wait, in both modes', async (t) => {
  const server = await startServer(t)
  const { socket } = await opened(server.url('/close'), { headers: { authorization: `Bearer ${server.sign('flood')}` } })
  t.strictSame(await closed(socket), { code: 4429, reason: 'too many requests; retry-after=30' })
  const refusal = await refused(server.url('/ws'), { headers: { authorization: `Bearer ${server.sign('flood')}` } })
  t.equal(refusal.status, 429)
  t.equal(refusal.headers['retry-after'], '30')
})

for (const path of ['/ws', '/close']) {
  t.test(`${path}: a 4429 waits at least the hint, then tries again with a fresh token`, async (t) => {
    const server = await startServer(t)
    const timers = new ManualTimers()
    const flood = tokenSource(server, 'flood')
    const client = connect(server.url(path), { ...flood, WebSocket, timers, random: () => 0.5, backoff: { baseMs: 1000 } })
    t.teardown(() => client.close())
    await reaches(client, 'reconnecting')
    t.ok(timers.delays.includes(30_000), 'the hint (30 s), not the backoff (500 ms)')
    t.notOk(timers.delays.includes(500))
    timers.fire(30_000)
    await nextEvent(client, 'state', (event: Event & { state?: string }) => event.state === 'reconnecting')
    t.strictSame(flood.reasons, ['connect', 'reconnect'])
    t.equal(server.handshakes, 2)
  })
}

t.test('a hint shorter than the backoff: the backoff wins', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const client = connect(server.url('/close'), {
    ...tokenSource(server, 'flood'), WebSocket, timers, random: () => 1, backoff: { baseMs: 60_000, capMs: 60_000 },
  })
  t.teardown(() => client.close())
  await reaches(client, 'reconnecting')
  t.ok(timers.delays.includes(60_000))
})
