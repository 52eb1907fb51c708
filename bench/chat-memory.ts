// Memory per idle client: SOCKETS clients connected to one node and sitting in a room, against the same number of bare
// @fastify/websocket sockets (no authentication, a message listener each), in the same run. A fresh server process per
// variant and round, in a shuffled order; the ratio is taken within each round, the table gives medians.
import { execSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { median, shuffled } from './stats.ts'
import { ask, closeClients, openClients, startChatServer, stopChatServer, type ChatMeasurement } from './chat-clients.ts'
import type { ChatVariant } from './chat-server.ts'

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000)
// Subjects: each has SOCKETS / USERS sockets; presence lists every subject in the room.
const USERS = Number(process.env.BENCH_USERS ?? 100)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 3000)
const VARIANTS: Array<{ variant: ChatVariant, name: string }> = [
  { variant: 'bare', name: 'bare @fastify/websocket (reference)' },
  { variant: 'chat', name: 'secured-chat, in general' },
]

// This process holds one descriptor per client socket, the server one per server socket; both inherit this limit.
const openFiles = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim())
if (Number.isFinite(openFiles) && openFiles < SOCKETS + 256) {
  throw new Error(`ulimit -n is ${openFiles}: raise it to at least ${SOCKETS + 256} (ulimit -n ${SOCKETS + 256}) or lower BENCH_SOCKETS`)
}

interface Run { heapPerSocket: number, rssPerSocket: number, heap: number }

async function run (variant: ChatVariant): Promise<Run> {
  const server = await startChatServer(variant)
  const before = await ask<ChatMeasurement>(server, 'measure')
  const clients = await openClients(variant, [server.port], SOCKETS, USERS, () => {})
  await sleep(SETTLE_MS)
  const after = await ask<ChatMeasurement>(server, 'measure')
  await closeClients(clients)
  await stopChatServer(server)
  return {
    heap: after.heapUsed,
    heapPerSocket: (after.heapUsed - before.heapUsed) / SOCKETS,
    rssPerSocket: (after.rss - before.rss) / SOCKETS,
  }
}

const runs: Run[][] = VARIANTS.map(() => [])
for (let round = 0; round < ROUNDS; round++) {
  for (const i of shuffled(VARIANTS.length)) runs[i]!.push(await run(VARIANTS[i]!.variant))
}
const ratio = (i: number, metric: keyof Run): string =>
  `${median(runs[i]!.map((result, round) => result[metric] / runs[0]![round]![metric])).toFixed(2)}×`
const kib = (bytes: number): string => (bytes / 1024).toFixed(2)

console.log(`memory per idle client: ${SOCKETS} clients on one node (${USERS} users); ${ROUNDS} rounds, a fresh server ` +
  'process per variant and round; heap after full GC; medians; ratios to the bare sockets of the same round')
console.table(VARIANTS.map(({ name }, i) => ({
  variant: name,
  'heap KiB/client': kib(median(runs[i]!.map((r) => r.heapPerSocket))),
  'heap ratio': ratio(i, 'heapPerSocket'),
  'RSS KiB/client': kib(median(runs[i]!.map((r) => r.rssPerSocket))),
  'RSS ratio': ratio(i, 'rssPerSocket'),
})))
