// Server CPU time per full handshake cycle (upgrade, welcome, one echo, close), for each transport of the guard,
// as a ratio to @fastify/websocket with no authentication measured in the same run. Each round measures every variant
// back to back in a shuffled order and divides by that round's baseline (no authentication, a client sending the same
// bytes), so load from elsewhere on the machine hits both sides of a ratio alike; the table reports the median of the
// per-round ratios.
import { createSigner } from 'fast-jwt'
import { sign as signCookie } from '@fastify/cookie'
import { tokenSubprotocol } from '@wsauth/subprotocol-token'
import { BENCH_COOKIE_SECRET, BENCH_ORIGIN, BENCH_SECRET } from './secret.ts'
import { ratioTable, startServer, type Presented } from './harness.ts'

interface Variant {
  name: string
  server: string
  /** How the client presents token `i`: URL suffix, headers and the subprotocols it offers. */
  present: (token: string) => Presented
  /** The no-auth variant whose client sends the same bytes, to divide by; default the first. */
  baseline?: string
}

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

const servers = await Promise.all(VARIANTS.map((variant) => startServer(new URL('./server.ts', import.meta.url), [variant.server])))
const rows = await ratioTable(VARIANTS.map((variant, i) => {
  const baseline = variant.baseline === undefined ? 0 : VARIANTS.findIndex((other) => other.name === variant.baseline)
  if (baseline === -1) throw new Error(`${variant.name}: no variant named ${variant.baseline}`)
  return { name: variant.name, server: servers[i]!, present: (cycle: number) => variant.present(tokens[cycle % TOKENS]!), baseline }
}), ROUNDS, CYCLES, CONCURRENCY)
for (const server of servers) server.child.send('exit')

console.log(`handshake cycle: upgrade, welcome, one echo, close; ${ROUNDS} rounds × ${CYCLES} cycles, ${CONCURRENCY} at once`)
console.table(rows)
