// An upgrade pipelined behind a plain request in one TCP write (issue 8, defect 1). Before the fix @fastify/websocket
// dropped such an upgrade (ERR_HTTP_SOCKET_ASSIGNED, logged at warn) and nothing ever answered or closed the socket:
// one CLOSE-WAIT socket per connection, for good. Now the upgrade waits for the response ahead and is answered in
// order, and every server-side socket is closed; counted by the server itself and by `ss`, after events, not delays.
import { execFileSync } from 'node:child_process'
import { connect as netConnect } from 'node:net'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { handshakeRequest } from '../../../test/helpers/ws.ts'
import { build, stillServes, type Fixture } from '../../../test/helpers/index.ts'

const DROPPED = 'websocket upgrade failed'

/** A log stream that reports the line @fastify/websocket writes when it drops an upgrade. */
function droppedUpgrades (): { stream: Writable, dropped: Promise<string> } {
  let report!: (line: string) => void
  const dropped = new Promise<string>((resolve) => { report = resolve })
  const stream = new Writable({
    write (chunk: Buffer | string, _encoding, callback) {
      for (const line of String(chunk).split('\n')) if (line.includes(DROPPED)) report(line)
      callback()
    },
  })
  return { stream, dropped }
}

function gate (): { promise: Promise<void>, open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}

function plainRequest (port: number, path: string, extra: string[] = []): string {
  return [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...extra, '', ''].join('\r\n')
}

interface Exchange {
  /** Everything the server sent, as latin1. */
  received: string
  /** `closed`: the server closed the connection; `dropped`: @fastify/websocket dropped the upgrade. */
  ending: 'closed' | 'dropped'
}

/**
 * Writes `requests` in one write and reads until the server closes the connection. A 101 is answered by closing
 * from this side once `untilText` has arrived. Settles as soon as the server's log says the upgrade was dropped: the
 * connection would then never end.
 */
function exchange (port: number, requests: string, dropped: Promise<string>, untilText?: string): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1')
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      received += chunk
      if (untilText !== undefined && received.includes(untilText)) socket.end()
    })
    socket.on('close', () => resolve({ received, ending: 'closed' }))
    socket.on('error', reject)
    dropped.then(() => {
      socket.destroy()
      resolve({ received, ending: 'dropped' })
    })
    socket.write(requests)
  })
}

function statusLines (received: string): string[] {
  return received.match(/HTTP\/1\.1 \d{3}/g) ?? []
}

async function connectionCount (fx: Fixture): Promise<number> {
  return await new Promise((resolve, reject) => {
    fx.app.server.getConnections((error, count) => (error === null ? resolve(count) : reject(error)))
  })
}

/** Server-side sockets of the port in CLOSE-WAIT, as the kernel sees them. */
function closeWaitSockets (port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'close-wait', `( sport = :${port} )`], { encoding: 'utf8' })
  return out.split('\n').filter((line) => line.trim() !== '').length
}

async function assertNoSocketLeft (t: Test, fx: Fixture): Promise<void> {
  t.equal(await connectionCount(fx), 0, 'the server holds no socket')
  t.equal(closeWaitSockets(fx.port), 0, 'no socket in CLOSE-WAIT')
}

t.test('GET and an upgrade in one write: both answered in order, every socket closed, the server serving on', async (t) => {
  const { stream, dropped } = droppedUpgrades()
  // `/slow` answers when the test says so, and tells when its request came and when its response closed.
  const slow = { arrived: gate(), release: gate(), closed: gate() }
  const fx = await build(t, {
    logger: { level: 'warn', stream },
    routes: (app) => {
      app.get('/health', async () => ({ ok: true }))
      app.get('/closing', async (_request, reply) => reply.header('connection', 'close').send({ ok: true }))
      app.get('/slow', async (_request, reply) => {
        reply.raw.once('close', () => slow.closed.open())
        slow.arrived.open()
        await slow.release.promise
        return { ok: true }
      })
    },
  })
  const N = 20

  t.test('no credential: 200 for the GET, then 401 for the upgrade, then the server closes', async (t) => {
    const requests = plainRequest(fx.port, '/health') + handshakeRequest(fx.port, '/ws', [])
    const results = await Promise.all(Array.from({ length: N }, () => exchange(fx.port, requests, dropped)))
    for (const [i, { received, ending }] of results.entries()) {
      t.equal(ending, 'closed', `connection ${i}: closed by the server, not dropped`)
      t.strictSame(statusLines(received), ['HTTP/1.1 200', 'HTTP/1.1 401'], `connection ${i}: answered in order`)
    }
    await assertNoSocketLeft(t, fx)
    await stillServes(t, fx)
  })

  t.test('a good token: 200, then 101 and the welcome; closed from this side, nothing left on the server', async (t) => {
    const handled = fx.handled
    const token = fx.sign({ sub: 'alice' })
    const requests = plainRequest(fx.port, '/health') + handshakeRequest(fx.port, '/ws', [`Authorization: Bearer ${token}`])
    const results = await Promise.all(Array.from({ length: N }, () => exchange(fx.port, requests, dropped, 'Welcome alice!')))
    for (const [i, { received, ending }] of results.entries()) {
      t.equal(ending, 'closed', `connection ${i}: not dropped`)
      t.strictSame(statusLines(received), ['HTTP/1.1 200', 'HTTP/1.1 101'], `connection ${i}: answered in order`)
    }
    t.equal(fx.handled - handled, N, 'every upgrade reached the handler')
    await fx.serverSocketsClosed()
    await assertNoSocketLeft(t, fx)
    await stillServes(t, fx)
  })

  t.test('two GETs ahead of the upgrade: all three answered in order', async (t) => {
    const requests = plainRequest(fx.port, '/health') + plainRequest(fx.port, '/nope') + handshakeRequest(fx.port, '/ws', [])
    const { received, ending } = await exchange(fx.port, requests, dropped)
    t.equal(ending, 'closed')
    t.strictSame(statusLines(received), ['HTTP/1.1 200', 'HTTP/1.1 404', 'HTTP/1.1 401'])
    await assertNoSocketLeft(t, fx)
    await stillServes(t, fx)
  })

  t.test('a response ahead that ends the connection (Connection: close): the upgrade is not answered, the socket is closed', async (t) => {
    const requests = plainRequest(fx.port, '/closing') + handshakeRequest(fx.port, '/ws', [])
    const { received, ending } = await exchange(fx.port, requests, dropped)
    t.equal(ending, 'closed')
    t.strictSame(statusLines(received), ['HTTP/1.1 200'])
    await assertNoSocketLeft(t, fx)
    await stillServes(t, fx)
  })

  t.test('the client resets while its upgrade waits: no crash, no socket left', async (t) => {
    // A slow response ahead, so that the upgrade is still waiting when the reset comes.
    const requests = plainRequest(fx.port, '/slow') + handshakeRequest(fx.port, '/ws', [])
    const socket = netConnect(fx.port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    socket.write(requests)
    await slow.arrived.promise
    const reset = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.resetAndDestroy()
    await reset
    slow.release.open()
    await slow.closed.promise
    await assertNoSocketLeft(t, fx)
    await stillServes(t, fx)
  })
})
