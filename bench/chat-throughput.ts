// Throughput of one node: CLIENTS clients in one room; SENDERS of them (one per user) send at a rising total rate,
// each message going to every client. A rate is sustained when the p99 of the time from send to arrival (sampled on
// one client in ten) stays under 100 ms and every sampled arrival came. The chat (examples/secured-chat, in memory)
// against a bare relay (@fastify/websocket, every frame to every socket), in the same run, with the server's CPU time
// per message fanned out. Clients and server share this machine's cores.
import { setTimeout as sleep } from 'node:timers/promises'
import { quantile } from './stats.ts'
import { closeClients, cpuOf, openClients, stampOf, stampedMessage, startChatServer, stopChatServer } from './chat-clients.ts'
import type { ChatVariant } from './chat-server.ts'

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000)
const SENDERS = 100
const STEP_MS = Number(process.env.BENCH_STEP_MS ?? 3000)
const RATES = (process.env.BENCH_RATES ?? '2,5,10,20,40,60,80,100,150,200,300,400').split(',').map(Number)
const TARGET_P99_MS = 100
const SAMPLE_EVERY = 10

interface Step { rate: number, p99: number, p50: number, delivered: number, cpuPerMessage: number }

async function run (variant: ChatVariant): Promise<Step[]> {
  const server = await startChatServer(variant)
  const latencies: number[] = []
  const onFrame = (client: number, data: Buffer): void => {
    if (client % SAMPLE_EVERY !== 0) return
    const stamp = stampOf(data)
    if (stamp !== null) latencies.push(performance.now() - stamp)
  }
  // Clients 0..SENDERS-1 are users 0..SENDERS-1: each sender is a user of its own, under the per-user rate limit.
  const clients = await openClients(variant, [server.port], CLIENTS, SENDERS, onFrame)
  const steps: Step[] = []
  for (const rate of RATES) {
    latencies.length = 0
    const cpu0 = await cpuOf(server)
    const start = performance.now()
    let sent = 0
    while (performance.now() - start < STEP_MS) {
      const due = Math.floor((performance.now() - start) / 1000 * rate)
      for (; sent < due; sent++) clients[sent % SENDERS]!.send(stampedMessage())
      await sleep(5)
    }
    const expected = sent * (CLIENTS / SAMPLE_EVERY)
    const drainUntil = performance.now() + 2000
    while (latencies.length < expected && performance.now() < drainUntil) await sleep(20)
    const cpu = await cpuOf(server) - cpu0
    const step = { rate, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), delivered: latencies.length / expected, cpuPerMessage: cpu / sent }
    steps.push(step)
    if (step.p99 >= TARGET_P99_MS || step.delivered < 1) break
    await sleep(1100)
  }
  await closeClients(clients)
  await stopChatServer(server)
  return steps
}

const results = new Map<ChatVariant, Step[]>()
for (const variant of ['bare', 'chat'] as const) results.set(variant, await run(variant))

const sustained = (steps: Step[]): Step | undefined => steps.filter((step) => step.p99 < TARGET_P99_MS && step.delivered >= 1).at(-1)
console.log(`throughput of one node: ${CLIENTS} clients in one room, ${SENDERS} senders, ${STEP_MS} ms per rate; ` +
  `latency sampled on every ${SAMPLE_EVERY}th client`)
for (const [variant, steps] of results) {
  console.log(`\n${variant === 'bare' ? 'bare relay (reference)' : 'secured-chat'}`)
  console.table(steps.map((step) => ({
    'messages/s': step.rate,
    'deliveries/s': step.rate * CLIENTS,
    'p50 ms': step.p50.toFixed(1),
    'p99 ms': step.p99.toFixed(1),
    delivered: `${(step.delivered * 100).toFixed(1)}%`,
    'server CPU µs/message': step.cpuPerMessage.toFixed(0),
  })))
}
const bare = sustained(results.get('bare')!)
const chat = sustained(results.get('chat')!)
console.log(`\nsustained at p99 < ${TARGET_P99_MS} ms: bare relay ${bare?.rate ?? 'none'} messages/s, secured-chat ${chat?.rate ?? 'none'} messages/s` +
  (bare !== undefined && chat !== undefined ? ` (${(chat.rate / bare.rate).toFixed(2)}×)` : ''))
const common = results.get('chat')!.find((step) => step.rate === RATES[1])
const commonBare = results.get('bare')!.find((step) => step.rate === RATES[1])
if (common !== undefined && commonBare !== undefined) {
  console.log(`server CPU per message fanned out to ${CLIENTS} clients at ${RATES[1]} messages/s: secured-chat ${common.cpuPerMessage.toFixed(0)} µs, ` +
    `bare relay ${commonBare.cpuPerMessage.toFixed(0)} µs (${(common.cpuPerMessage / commonBare.cpuPerMessage).toFixed(2)}×)`)
}
