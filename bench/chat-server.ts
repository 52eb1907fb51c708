// One chat-benchmark server per process (`--expose-gc`), so its memory and CPU time are its own. Variants:
// - bare: @fastify/websocket, no authentication, every text frame relayed as is to every socket (through Redis
//   pub/sub when REDIS_URL is set, so that two processes relay to each other's sockets);
// - chat: examples/secured-chat (the guard, in-band refresh, the protocol, rooms, history, presence, rate limit), on
//   Redis when REDIS_URL is set, in memory otherwise.
// The parent sends 'measure' (heap and RSS after full GCs), 'cpu' (CPU time so far, µs) and 'exit'.
import Fastify, { type FastifyInstance } from 'fastify'
import websocket, { type WebSocket } from '@fastify/websocket'
import { Redis } from 'ioredis'
import { buildApp } from '../examples/secured-chat/src/app.ts'
import { configFromEnv } from '../examples/secured-chat/src/config.ts'
import { BENCH_SECRET } from './secret.ts'

export type ChatVariant = 'bare' | 'chat'

export interface ChatMeasurement { heapUsed: number, rss: number }

const CHANNEL = 'bench:relay'

async function bare (redisUrl: string | undefined): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(websocket)
  const sockets = new Set<WebSocket>()
  const broadcast = (data: Buffer): void => {
    for (const socket of sockets) socket.send(data, { binary: false })
  }
  let publish = broadcast
  if (redisUrl !== undefined) {
    const publisher = new Redis(redisUrl)
    const subscriber = new Redis(redisUrl)
    await subscriber.subscribe(CHANNEL)
    subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => broadcast(message))
    publish = (data) => { publisher.publish(CHANNEL, data) }
    app.addHook('onClose', async () => { publisher.disconnect(); subscriber.disconnect() })
  }
  app.get('/chat', { websocket: true }, (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('message', (data, isBinary) => { if (!isBinary) publish(data as Buffer) })
  })
  return app
}

async function chat (): Promise<FastifyInstance> {
  return await buildApp(configFromEnv({ ...process.env, PORT: '0', LOG_LEVEL: 'warn' }, () => BENCH_SECRET))
}

if (globalThis.gc === undefined) throw new Error('run with --expose-gc')
const variant = (process.argv[2] ?? 'bare') as ChatVariant
const app = variant === 'bare' ? await bare(process.env.REDIS_URL) : await chat()
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.send!({ port: typeof address === 'object' && address !== null ? address.port : 0 })
process.on('message', (message) => {
  if (message === 'measure') {
    globalThis.gc!()
    globalThis.gc!()
    const { heapUsed, rss } = process.memoryUsage()
    process.send!({ heapUsed, rss } satisfies ChatMeasurement)
  } else if (message === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send!({ cpu: user + system })
  } else if (message === 'exit') {
    app.close().finally(() => process.exit(0))
  }
})
