// Revocation latency across nodes: 1,000 sockets of one user on node B, the token revoked on node A (denylist written,
// then published through Redis), timed until the last socket is closed as the clients see it; p50 and p99 over the
// runs. The baseline, in the same run: the same revocation made on node B itself, which closes its sockets directly.
// The same with one socket shows what the Redis hop itself costs.
import { once } from 'node:events'
import { createSigner } from 'fast-jwt'
import WebSocket from 'ws'
import { startServer, type Server } from './harness.ts'
import { benchRedis } from './redis-kit.ts'
import { BENCH_SECRET } from './secret.ts'
import { quantile } from './stats.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 20)
const SOCKETS = [1, Number(process.env.BENCH_SOCKETS ?? 1000)]
const OPENING_AT_ONCE = 50

const redis = await benchRedis()
const sign = createSigner({ key: BENCH_SECRET, expiresIn: 3_600_000 })
const script = new URL('./redis-server.ts', import.meta.url)
const [a, b] = await Promise.all([startServer(script, ['bearer-redis', redis.url]), startServer(script, ['bearer-redis', redis.url])])

async function openAll (server: Server, token: string, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = []
  for (let start = 0; start < count; start += OPENING_AT_ONCE) {
    await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, count - start) }, async () => {
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { authorization: `Bearer ${token}` } })
      await once(socket, 'message')
      sockets.push(socket)
    }))
  }
  return sockets
}

/** Milliseconds from asking `revoker` to revoke until the last of B's sockets is closed, as the clients see it. */
async function revocation (revoker: Server, count: number, run: number, where: string): Promise<number> {
  const jti = `revoke-${where}-${count}-${run}`
  const sockets = await openAll(b, sign({ sub: 'alice', jti }), count)
  const allClosed = Promise.all(sockets.map((socket) => once(socket, 'close')))
  const start = performance.now()
  revoker.child.send({ revoke: jti })
  await allClosed
  return performance.now() - start
}

const rows: Array<Record<string, string>> = []
for (const count of SOCKETS) {
  const across: number[] = []
  const sameNode: number[] = []
  await revocation(a, count, -1, 'warm-up')
  for (let run = 0; run < RUNS; run++) {
    // Alternated, so load from elsewhere on the machine hits both alike.
    across.push(await revocation(a, count, run, 'a'))
    sameNode.push(await revocation(b, count, run, 'b'))
  }
  const row = (variant: string, times: number[]): Record<string, string> => ({
    variant,
    'p50 ms': quantile(times, 0.5).toFixed(1),
    'p99 ms': quantile(times, 0.99).toFixed(1),
    'p99 ratio to same node': `${(quantile(times, 0.99) / quantile(sameNode, 0.99)).toFixed(2)}×`,
  })
  rows.push(row(`${count} socket(s): revoked on node B itself (baseline)`, sameNode), row(`${count} socket(s): revoked on node A, through Redis`, across))
}
for (const server of [a, b]) server.child.send('exit')
await redis.stop()

console.log(`revocation latency: sockets of one user on node B, ${RUNS} runs each, until the last close reaches the client`)
console.table(rows)
