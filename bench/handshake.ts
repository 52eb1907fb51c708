// Server CPU time per full handshake cycle (upgrade, welcome, one echo, close), for each transport of the guard,
// as a ratio to @fastify/websocket with no authentication measured in the same run. Each round measures every variant
// back to back in a shuffled order and divides by that round's baseline, so load from elsewhere on the machine hits
// both sides of a ratio alike; the table reports the median of the per-round ratios.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createSigner } from 'fast-jwt'
import WebSocket from 'ws'
import { BENCH_SECRET } from './secret.ts'

interface Variant {
  name: string
  server: string
  /** How the client presents token `i`: URL suffix and headers. */
  present: (token: string) => { path: string, headers: Record<string, string> }
}

const VARIANTS: Variant[] = [
  // The baseline client sends the same header bytes, so the ratio measures the guard and not a longer request.
  {
    name: 'no auth (baseline)',
    server: 'baseline',
    present: (token) => ({ path: '/ws', headers: { authorization: `Bearer ${token}` } }),
  },
  {
    name: 'guard, JWT in Authorization: Bearer',
    server: 'guard',
    present: (token) => ({ path: '/ws', headers: { authorization: `Bearer ${token}` } }),
  },
]

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21)
const CYCLES = Number(process.env.BENCH_CYCLES ?? 200)
const CONCURRENCY = 8
const TOKENS = 64

const sign = createSigner({ key: BENCH_SECRET, expiresIn: 3_600_000 })
const tokens = Array.from({ length: TOKENS }, (_, i) => sign({ sub: `user${i}`, scope: 'chat', jti: `bench-${i}` }))

interface Server { child: ChildProcess, port: number }

async function start (server: string): Promise<Server> {
  const child = fork(new URL('./server.ts', import.meta.url), [server], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [])] })
  const [message] = await once(child, 'message') as [{ port: number }]
  return { child, port: message.port }
}

async function cpu (server: Server): Promise<number> {
  server.child.send('cpu')
  const [message] = await once(server.child, 'message') as [{ cpu: number }]
  return message.cpu
}

function cycle (port: number, variant: Variant, token: string): Promise<void> {
  const { path, headers } = variant.present(token)
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers })
    let messages = 0
    socket.on('message', () => {
      messages++
      if (messages === 1) socket.send('ping')
      else socket.close(1000)
    })
    socket.on('close', () => (messages === 2 ? resolve() : reject(new Error(`closed after ${messages} messages`))))
    socket.on('error', reject)
  })
}

async function run (server: Server, variant: Variant, cycles: number): Promise<number> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < cycles) {
      const i = next++
      await cycle(server.port, variant, tokens[i % TOKENS]!)
    }
  }
  const before = await cpu(server)
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return (await cpu(server) - before) / cycles
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

function shuffled (count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i)
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
}

const servers = await Promise.all(VARIANTS.map((variant) => start(variant.server)))
const perCycle: number[][] = VARIANTS.map(() => [])
const ratios: number[][] = VARIANTS.map(() => [])
for (let i = 0; i < VARIANTS.length; i++) await run(servers[i]!, VARIANTS[i]!, CYCLES)
for (let round = 0; round < ROUNDS; round++) {
  const cost: number[] = []
  for (const i of shuffled(VARIANTS.length)) cost[i] = await run(servers[i]!, VARIANTS[i]!, CYCLES)
  for (let i = 0; i < VARIANTS.length; i++) {
    perCycle[i]!.push(cost[i]!)
    ratios[i]!.push(cost[i]! / cost[0]!)
  }
}
for (const server of servers) server.child.send('exit')

const rows = VARIANTS.map((variant, i) => ({
  variant: variant.name,
  'server CPU µs/cycle (median)': median(perCycle[i]!).toFixed(1),
  'ratio to baseline (median of rounds)': `${median(ratios[i]!).toFixed(3)}×`,
}))
console.log(`handshake cycle: upgrade, welcome, one echo, close; ${ROUNDS} rounds × ${CYCLES} cycles, ${CONCURRENCY} at once`)
console.table(rows)
