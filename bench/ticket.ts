// Server CPU time per handshake cycle (upgrade, welcome, one echo, close) with a single-use ticket, by `?ticket=` and
// by subprotocol, as a ratio to @fastify/websocket with no authentication measured in the same run (a client sending
// the same bytes). Each ticket is minted before its run's CPU time is read, so minting is not in the cycle; it is
// measured on its own at the end (POST /ws-ticket, with the JWT verified and the ticket stored in memory).
import { createSigner } from 'fast-jwt'
import { TICKET_SUBPROTOCOL_PREFIX } from '@wsauth/ticket'
import { BENCH_SECRET } from './secret.ts'
import { collectGarbage, ratioTable, startServer, type Contender, type Presented, type Server } from './harness.ts'
import { median } from './stats.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 31)
const CYCLES = Number(process.env.BENCH_CYCLES ?? 400)
const CONCURRENCY = 8
const MINTS = Number(process.env.BENCH_MINTS ?? 2000)

const sign = createSigner({ key: BENCH_SECRET, expiresIn: 3_600_000 })
const token = sign({ sub: 'bench', scope: 'chat', jti: 'bench-ticket' })
// What a baseline client sends in the ticket's place: the same number of bytes, worth nothing.
const PLACEHOLDER = 'x'.repeat(43)

const byQuery = (ticket: string): Presented => ({ path: `/ws?ticket=${ticket}`, headers: {} })
const bySubprotocol = (ticket: string): Presented => ({ path: '/ws', headers: {}, protocols: ['echo.v1', TICKET_SUBPROTOCOL_PREFIX + ticket] })

async function mint (server: Server): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${server.port}/ws-ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  if (response.status !== 200) throw new Error(`POST /ws-ticket answered ${response.status}`)
  return (await response.json() as { ticket: string }).ticket
}

/** Mints `count` tickets, `CONCURRENCY` at a time, into `pool`. */
async function fill (server: Server, pool: string[], count: number): Promise<void> {
  let left = count
  const worker = async (): Promise<void> => {
    while (left-- > 0) pool.push(await mint(server))
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

const [baseline, tickets] = await Promise.all([
  startServer(new URL('./server.ts', import.meta.url), ['baseline']),
  startServer(new URL('./server.ts', import.meta.url), ['ticket']),
])
/**
 * A no-auth baseline presenting a placeholder, then the ticket server presenting tickets minted for each run. Both
 * collect their garbage before each run, so the minting's is not in the ticket's cycles.
 */
function pair (name: string, present: (ticket: string) => Presented, baselineAt: number): Contender[] {
  const pool: string[] = []
  return [
    {
      name: `no auth, ${name} (baseline)`,
      server: baseline,
      present: () => present(PLACEHOLDER),
      baseline: baselineAt,
      prepare: () => collectGarbage(baseline),
    },
    {
      name: `guard, ticket in ${name}`,
      server: tickets,
      present: () => present(pool.pop()!),
      baseline: baselineAt,
      prepare: async (cycles) => {
        await fill(tickets, pool, cycles)
        await collectGarbage(tickets)
      },
    },
  ]
}

// For scale: the same guard verifying a JWT in Authorization: Bearer (its verified-token cache on), against a baseline
// client sending the same header.
const withBearer: Presented = { path: '/ws', headers: { authorization: `Bearer ${token}` } }
const bearerRows: Contender[] = [
  { name: 'no auth, Authorization (baseline)', server: baseline, present: () => withBearer, baseline: 4, prepare: () => collectGarbage(baseline) },
  { name: 'guard, JWT in Authorization: Bearer', server: tickets, present: () => withBearer, baseline: 4, prepare: () => collectGarbage(tickets) },
]

// Without the plugin, ws echoes the first offer, `echo.v1`: the baseline's 101 has the same bytes as the guard's.
const rows = await ratioTable([...pair('?ticket=', byQuery, 0), ...pair('Sec-WebSocket-Protocol', bySubprotocol, 2), ...bearerRows],
  ROUNDS, CYCLES, CONCURRENCY)

// Minting on its own: server CPU per POST /ws-ticket, next to a baseline handshake cycle's.
const cpu = async (server: Server): Promise<number> => {
  server.child.send('cpu')
  return await new Promise((resolve) => server.child.once('message', (message: { cpu: number }) => resolve(message.cpu)))
}
const mintCosts: number[] = []
for (let round = 0; round < 5; round++) {
  const before = await cpu(tickets)
  await fill(tickets, [], MINTS)
  mintCosts.push((await cpu(tickets) - before) / MINTS)
}
for (const server of [baseline, tickets]) server.child.send('exit')

const baselineCycle = Number(rows[0]!['server CPU µs/cycle (median)'])
console.log(`handshake cycle with a ticket: upgrade, welcome, one echo, close; ${ROUNDS} rounds × ${CYCLES} cycles, ${CONCURRENCY} at once`)
console.table(rows)
console.log(`minting (POST /ws-ticket, not in the cycles above): ${MINTS} × 5 rounds`)
console.table([{
  'server CPU µs/mint (median of rounds)': median(mintCosts).toFixed(1),
  'ratio to a no-auth handshake cycle': `${(median(mintCosts) / baselineCycle).toFixed(3)}×`,
}])
