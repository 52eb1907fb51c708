// Memory and CPU of live-socket expiry tracking: SOCKETS idle authenticated sockets held open against one server
// process per variant (see lifecycle-server.ts), compared with the same sockets verified the same way but not
// tracked. Tokens expire over an hour, spread across many expiry buckets. Each round starts a fresh server per variant,
// in a shuffled order; ratios are taken within a round and the table reports medians over rounds.
import { execSync, fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSigner } from 'fast-jwt'
import WebSocket from 'ws'
import type { LifecycleVariant, Measurement } from './lifecycle-server.ts'
import { BENCH_SECRET } from './secret.ts'
import { median, shuffled } from './stats.ts'

const VARIANTS: Array<{ variant: LifecycleVariant, name: string }> = [
  { variant: 'baseline', name: 'no auth' },
  { variant: 'untracked', name: 'verified, not tracked (reference)' },
  { variant: 'tracked', name: 'guard: tracked, expiry buckets' },
  { variant: 'refresh', name: 'guard + first-message: refresh on' },
]
const REFERENCE = VARIANTS.findIndex(({ variant }) => variant === 'untracked')

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000)
// V8 goes on collecting for a few seconds after the setup's garbage (its memory reducer), longer when a timer keeps
// the process from looking idle; the idle window starts after that.
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 6000)
const CONCURRENCY = 100
const SUBJECTS = 1000

// The parent holds one descriptor per client socket, the server one per server socket; both inherit this limit.
const openFiles = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim())
if (Number.isFinite(openFiles) && openFiles < SOCKETS + 256) {
  throw new Error(`ulimit -n is ${openFiles}: raise it to at least ${SOCKETS + 256} (ulimit -n ${SOCKETS + 256}) or lower BENCH_SOCKETS`)
}

const signer = createSigner({ key: BENCH_SECRET })
const nowSeconds = Math.floor(Date.now() / 1000)
// Expiries from 30 to 90 minutes away, one per second: about 3600 expiry buckets in use, not one.
const tokens = Array.from({ length: SOCKETS }, (_, i) => signer({
  sub: `user${i % SUBJECTS}`,
  jti: `bench-${i}`,
  scope: 'chat',
  exp: nowSeconds + 1800 + (i % 3600),
}))

interface Server { child: ChildProcess, port: number }

async function start (variant: LifecycleVariant): Promise<Server> {
  const child = fork(new URL('./lifecycle-server.ts', import.meta.url), [variant], { execArgv: ['--expose-gc', '--import', 'tsx'] })
  const [message] = await once(child, 'message') as [{ port: number }]
  return { child, port: message.port }
}

async function ask<T> (server: Server, question: 'measure' | 'cpu'): Promise<T> {
  server.child.send(question)
  const [answer] = await once(server.child, 'message') as [T]
  return answer
}

function open (port: number, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${token}` } })
    socket.once('open', () => resolve(socket))
    socket.once('error', reject)
  })
}

async function openAll (port: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < SOCKETS) {
      const i = next++
      sockets[i] = await open(port, tokens[i]!)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return sockets
}

interface Run {
  /** Server heap after GC with every socket open, bytes. */
  heap: number
  rss: number
  /** Heap and RSS added per open socket, bytes. */
  heapPerSocket: number
  rssPerSocket: number
  /** Server CPU to accept and authenticate one socket, µs. */
  setupCpu: number
  /** Server CPU while every socket sits idle (the expiry sweep's timer included), µs per second. */
  idleCpu: number
}

async function run (variant: LifecycleVariant): Promise<Run> {
  const server = await start(variant)
  const before = await ask<Measurement>(server, 'measure')
  const cpu0 = (await ask<{ cpu: number }>(server, 'cpu')).cpu
  const sockets = await openAll(server.port)
  const cpu1 = (await ask<{ cpu: number }>(server, 'cpu')).cpu
  const after = await ask<Measurement>(server, 'measure')
  await sleep(SETTLE_MS)
  const cpu2 = (await ask<{ cpu: number }>(server, 'cpu')).cpu
  await sleep(IDLE_MS)
  const cpu3 = (await ask<{ cpu: number }>(server, 'cpu')).cpu
  if (after.tracked !== null && after.tracked !== (variant === 'untracked' ? 0 : SOCKETS)) {
    throw new Error(`${variant}: the guard tracks ${after.tracked} sockets`)
  }
  const exited = once(server.child, 'exit')
  const allClosed = Promise.all(sockets.map((socket) => once(socket, 'close')))
  server.child.send('exit')
  await exited
  await allClosed
  return {
    heap: after.heapUsed,
    rss: after.rss,
    heapPerSocket: (after.heapUsed - before.heapUsed) / SOCKETS,
    rssPerSocket: (after.rss - before.rss) / SOCKETS,
    setupCpu: (cpu1 - cpu0) / SOCKETS,
    idleCpu: (cpu3 - cpu2) / (IDLE_MS / 1000),
  }
}

const runs: Run[][] = VARIANTS.map(() => [])
for (let round = 0; round < ROUNDS; round++) {
  for (const i of shuffled(VARIANTS.length)) runs[i]!.push(await run(VARIANTS[i]!.variant))
}

const ratio = (i: number, metric: keyof Run): string =>
  `${median(runs[i]!.map((result, round) => result[metric] / runs[REFERENCE]![round]![metric])).toFixed(3)}×`
const kib = (bytes: number): string => (bytes / 1024).toFixed(2)
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)

console.log(`${SOCKETS} idle authenticated sockets, ${SUBJECTS} subjects, expiries spread over an hour; ` +
  `${ROUNDS} rounds, a fresh server process per variant and round; medians; ratios to "${VARIANTS[REFERENCE]!.name}"`)
console.log('\nmemory (server, after full GC, every socket open)')
console.table(VARIANTS.map(({ name }, i) => ({
  variant: name,
  'heap MiB': mib(median(runs[i]!.map((r) => r.heap))),
  'heap ratio': ratio(i, 'heap'),
  'heap KiB/socket': kib(median(runs[i]!.map((r) => r.heapPerSocket))),
  'heap/socket ratio': ratio(i, 'heapPerSocket'),
  'RSS MiB': mib(median(runs[i]!.map((r) => r.rss))),
  'RSS ratio': ratio(i, 'rss'),
})))
console.log('\nCPU (server)')
console.table(VARIANTS.map(({ name }, i) => ({
  variant: name,
  'accept + authenticate µs/socket': median(runs[i]!.map((r) => r.setupCpu)).toFixed(1),
  ratio: ratio(i, 'setupCpu'),
  [`idle ms CPU per s (${SOCKETS} sockets)`]: (median(runs[i]!.map((r) => r.idleCpu)) / 1000).toFixed(2),
})))
