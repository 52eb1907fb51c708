// Fan-out across nodes: CLIENTS clients in one room, half on each of two server processes sharing a redis-server of
// this benchmark's own; one client sends a message, and the time until every client has it is taken, ROUNDS times.
// The chat (examples/secured-chat on Redis) against a bare relay over the same Redis pub/sub (@fastify/websocket, no
// authentication, no protocol: every frame to every socket), in the same run.
import { quantile } from './stats.ts'
import { closeClients, openClients, stampOf, stampedMessage, startChatServer, stopChatServer } from './chat-clients.ts'
import type { ChatVariant } from './chat-server.ts'
import { startRedis } from '../test/helpers/redis.ts'

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000)
// Subjects: each has CLIENTS / USERS sockets (tabs, devices). The room's presence lists every subject.
const USERS = Number(process.env.BENCH_USERS ?? 100)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 50)

const teardowns: Array<() => unknown> = []
const redis = await startRedis({ teardown: (fn) => { teardowns.push(fn) } })

interface Result { everyone: number[], each: number[] }

async function run (variant: ChatVariant): Promise<Result> {
  const servers = [await startChatServer(variant, { REDIS_URL: redis.url }), await startChatServer(variant, { REDIS_URL: redis.url })]
  const ports = servers.map((server) => server.port)
  // Arrivals of the message in flight: one per client.
  let arrivals: number[] = []
  let sentAt = 0
  let done: () => void = () => {}
  const onFrame = (_client: number, data: Buffer): void => {
    const stamp = stampOf(data)
    if (stamp === null || stamp !== sentAt) return
    arrivals.push(performance.now() - sentAt)
    if (arrivals.length === CLIENTS) done()
  }
  const clients = await openClients(variant, ports, CLIENTS, USERS, onFrame)
  const result: Result = { everyone: [], each: [] }
  for (let round = 0; round < ROUNDS; round++) {
    arrivals = []
    const everyone = new Promise<void>((resolve) => { done = resolve })
    // The sender is one of the clients, on the first node; the others are on both.
    const message = stampedMessage()
    sentAt = stampOf(Buffer.from(message))!
    clients[round % CLIENTS]!.send(message)
    await everyone
    result.everyone.push(Math.max(...arrivals))
    result.each.push(...arrivals)
    // Under the chat's per-user rate limit (20 messages a second), whichever client sends.
    await new Promise((resolve) => setTimeout(resolve, 60))
  }
  await closeClients(clients)
  for (const server of servers) await stopChatServer(server)
  return result
}

const results = new Map<ChatVariant, Result>()
for (const variant of ['bare', 'chat'] as const) results.set(variant, await run(variant))
for (const teardown of teardowns) await teardown()

const ms = (value: number): string => value.toFixed(2)
const bare = results.get('bare')!
const chat = results.get('chat')!
console.log(`fan-out: ${CLIENTS} clients (${USERS} users) in one room, half on each of two nodes sharing one Redis; ` +
  `${ROUNDS} messages, one at a time; ms`)
console.table([['bare relay (reference)', bare], ['secured-chat', chat]].map(([name, result]) => {
  const r = result as Result
  return {
    variant: name as string,
    'all have it p50': ms(quantile(r.everyone, 0.5)),
    'all have it p99': ms(quantile(r.everyone, 0.99)),
    'per client p50': ms(quantile(r.each, 0.5)),
    'per client p99': ms(quantile(r.each, 0.99)),
    'ratio (all, p50)': `${(quantile(r.everyone, 0.5) / quantile(bare.everyone, 0.5)).toFixed(2)}×`,
  }
}))
console.log(`secured-chat: every client has the message ${ms(quantile(chat.everyone, 0.5))} ms after it is sent (p50), ` +
  `${ms(quantile(chat.everyone, 0.99))} ms (p99)`)
