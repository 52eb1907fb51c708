// Server CPU time per full handshake cycle (upgrade, welcome, one echo, close), for each transport of the guard,
// as a ratio to @fastify/websocket with no authentication measured in the same run. Each round measures every variant
// back to back in a shuffled order and divides by that round's baseline (no authentication, a client sending the same
// bytes), so load from elsewhere on the machine hits both sides of a ratio alike; the table reports the median of the
// per-round ratios.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createSigner } from 'fast-jwt'
import WebSocket from 'ws'
import { sign as signCookie } from '@fastify/cookie'
import { tokenSubprotocol } from '@wsauth/subprotocol-token'
import { BENCH_COOKIE_SECRET, BENCH_ORIGIN, BENCH_SECRET } from './secret.ts'
import { median, quantile, shuffled } from './stats.ts'

interface Variant {
  name: string
  server: string
  /** How the client presents token `i`: URL suffix, headers and the subprotocols it offers. */
  present: (token: string) => Presented
  /** The no-auth variant whose client sends the same bytes, to divide by; default the first. */
  baseline?: string
}

interface Presented { path: string, headers: Record<string, string>, protocols?: string[] }

// The session cookie as @wsauth/cookie-iframe sets it (the token, signed), from an allowed page.
const withCookie = (token: string): Presented =>
  ({ path: '/ws', headers: { cookie: `wsauth=${signCookie(token, BENCH_COOKIE_SECRET)}`, origin: BENCH_ORIGIN } })

// A browser's offer: the application protocol, then the token in wsauth's format.
const withSubprotocol = (token: string): Presented =>
  ({ path: '/ws', headers: {}, protocols: ['echo.v1', tokenSubprotocol(token, 'wsauth')] })

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
  { name: 'no auth, Cookie and Origin (baseline)', server: 'baseline', present: withCookie },
  { name: 'guard, cookie (signed JWT)', server: 'cookie', present: withCookie, baseline: 'no auth, Cookie and Origin (baseline)' },
  // Without the plugin, ws echoes the first offer, `echo.v1`: the baseline's 101 has the same bytes as the guard's.
  { name: 'no auth, Sec-WebSocket-Protocol (baseline)', server: 'baseline', present: withSubprotocol },
  {
    name: 'guard, JWT in Sec-WebSocket-Protocol',
    server: 'subprotocol',
    present: withSubprotocol,
    baseline: 'no auth, Sec-WebSocket-Protocol (baseline)',
  },
]

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31)
const CYCLES = Number(process.env.BENCH_CYCLES ?? 400)
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
  const { path, headers, protocols } = variant.present(token)
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, { headers })
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

const servers = await Promise.all(VARIANTS.map((variant) => start(variant.server)))
const perCycle: number[][] = VARIANTS.map(() => [])
const ratios: number[][] = VARIANTS.map(() => [])
const baselineOf = VARIANTS.map((variant) => {
  const index = variant.baseline === undefined ? 0 : VARIANTS.findIndex((other) => other.name === variant.baseline)
  if (index === -1) throw new Error(`${variant.name}: no variant named ${variant.baseline}`)
  return index
})
for (let i = 0; i < VARIANTS.length; i++) await run(servers[i]!, VARIANTS[i]!, CYCLES)
for (let round = 0; round < ROUNDS; round++) {
  const cost: number[] = []
  for (const i of shuffled(VARIANTS.length)) cost[i] = await run(servers[i]!, VARIANTS[i]!, CYCLES)
  for (let i = 0; i < VARIANTS.length; i++) {
    perCycle[i]!.push(cost[i]!)
    ratios[i]!.push(cost[i]! / cost[baselineOf[i]!]!)
  }
}
for (const server of servers) server.child.send('exit')

const rows = VARIANTS.map((variant, i) => ({
  variant: variant.name,
  'server CPU µs/cycle (median)': median(perCycle[i]!).toFixed(1),
  'ratio to its baseline (median of rounds)': `${median(ratios[i]!).toFixed(3)}×`,
  // The spread of the per-round ratios: how far one run of this table can be trusted on this machine.
  'middle half of rounds': `${quantile(ratios[i]!, 0.25).toFixed(3)}–${quantile(ratios[i]!, 0.75).toFixed(3)}`,
}))
console.log(`handshake cycle: upgrade, welcome, one echo, close; ${ROUNDS} rounds × ${CYCLES} cycles, ${CONCURRENCY} at once`)
console.table(rows)
