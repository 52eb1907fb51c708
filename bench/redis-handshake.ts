// Server CPU time per handshake cycle (upgrade, welcome, one echo, close) with wsauth's stores on Redis, as a ratio to
// @fastify/websocket with no authentication in the same run (see harness.ts), and the Redis round trips each
// handshake costs, counted on the node: a Bearer JWT (denylist mirrored on the node: 0 expected) and a @wsauth/ticket
// ticket redeemed from the guard's Redis stores (GETDEL: 1 expected). Tickets are put into Redis before the run, as
// `POST /ws-ticket` stores them, so minting is not in the cycle.
import { createSigner } from 'fast-jwt'
import { Redis } from 'ioredis'
import { ratioTable, run, startServer, type Presented } from './harness.ts'
import { randomBytes } from 'node:crypto'
import { ticketKey, type TicketGrant } from '@wsauth/ticket'
import { benchRedis, commandsSent } from './redis-kit.ts'
import { BENCH_SECRET } from './secret.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21)
const CYCLES = Number(process.env.BENCH_CYCLES ?? 400)
const CONCURRENCY = 8
const TOKENS = 64

const redis = await benchRedis()
const sign = createSigner({ key: BENCH_SECRET, expiresIn: 3_600_000 })
const tokens = Array.from({ length: TOKENS }, (_, i) => sign({ sub: `user${i}`, scope: 'chat', jti: `bench-${i}` }))
// One ticket per handshake of the run, each put once before it, under its key as @wsauth/ticket keeps it.
const totalTickets = (ROUNDS + 2) * CYCLES
const ticketList = Array.from({ length: totalTickets }, () => randomBytes(32).toString('base64url'))
let tickets = 0
const admin = new Redis(redis.url)
for (let start = 0; start < totalTickets; start += 1000) {
  const batch = admin.pipeline()
  for (let n = start; n < Math.min(totalTickets, start + 1000); n++) {
    const grant: TicketGrant = { subject: `user${n % TOKENS}`, scopes: ['chat'], claims: {}, tokenId: `ticket-${n}`, expiresAt: null, origin: null }
    batch.set(`bench:once:ticket:${ticketKey(ticketList[n]!)}`, JSON.stringify(grant), 'PX', 3_600_000)
  }
  await batch.exec()
}

const bearer = (cycle: number): Presented => ({ path: '/ws', headers: { authorization: `Bearer ${tokens[cycle % TOKENS]!}` } })
const ticket = (): Presented => ({ path: `/ws?ticket=${ticketList[tickets++]!}`, headers: {} })
const sameBytesAsTicket = (): Presented => ({ path: `/ws?ticket=${'x'.repeat(43)}`, headers: {} })

const script = new URL('./redis-server.ts', import.meta.url)
const variants = [
  { name: 'no auth, Bearer bytes (baseline)', server: 'baseline', present: bearer, baseline: 0 },
  { name: 'guard, Bearer JWT, memory stores', server: 'bearer-memory', present: bearer, baseline: 0 },
  { name: 'guard, Bearer JWT, Redis stores', server: 'bearer-redis', present: bearer, baseline: 0 },
  { name: 'no auth, ticket bytes (baseline)', server: 'baseline', present: sameBytesAsTicket, baseline: 3 },
  { name: 'guard, @wsauth/ticket on Redis (GETDEL)', server: 'ticket-redis', present: ticket, baseline: 3 },
]
const servers = await Promise.all(variants.map((variant) => startServer(script, [variant.server, redis.url])))
const rows = await ratioTable(variants.map((variant, i) => ({ ...variant, server: servers[i]! })), ROUNDS, CYCLES, CONCURRENCY)

// Round trips, counted: commands the node sent over a run of handshakes, per handshake.
const roundTrips: Array<Record<string, string>> = []
for (const [i, present] of [[2, bearer], [4, ticket]] as const) {
  const before = await commandsSent(servers[i]!)
  await run(servers[i]!, CYCLES, CONCURRENCY, present)
  roundTrips.push({ variant: variants[i]!.name, 'Redis commands per handshake': ((await commandsSent(servers[i]!) - before) / CYCLES).toFixed(2) })
}
for (const server of servers) server.child.send('exit')
admin.disconnect()
await redis.stop()

console.log(`handshake cycle on Redis stores: upgrade, welcome, one echo, close; ${ROUNDS} rounds × ${CYCLES} cycles, ${CONCURRENCY} at once`)
console.table(rows)
console.table(roundTrips)
