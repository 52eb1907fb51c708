// One lifecycle-benchmark server per process (`--expose-gc`), so its memory and CPU time are its own. Variants:
// - baseline: @fastify/websocket, no authentication;
// - untracked: the guard verifies every handshake (route opted out of the guard, `wsAuth.verifyToken` in its own
//   preValidation hook), but no socket is tracked: the same sockets and identities without expiry tracking;
// - tracked: the guard's route: tracked by subject and token id, in expiry buckets;
// - refresh: tracked, with @wsauth/first-message and `refresh: true` (message interception, `auth.expiring` buckets).
// The parent sends 'measure' (heap and RSS after full GCs, CPU time, tracked count) and 'exit'.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import websocket, { type WebSocket } from '@fastify/websocket'
import jwt from '@fastify/jwt'
import wsBearer from '@wsauth/ws-bearer'
import firstMessage from '@wsauth/first-message'
import { BENCH_SECRET } from './secret.ts'

export type LifecycleVariant = 'baseline' | 'untracked' | 'tracked' | 'refresh'

export interface Measurement {
  heapUsed: number
  rss: number
  /** Server CPU time so far, µs. */
  cpu: number
  /** Sockets the guard tracks; `null` without the guard. */
  tracked: number | null
}

// Every variant keeps what an app typically keeps per socket: a listener that closes over the identity.
function idle (socket: WebSocket, request: FastifyRequest): void {
  const identity = request.identity
  socket.on('message', (data) => socket.send(`${identity?.subject ?? 'anonymous'}: ${String(data)}`))
}

async function build (variant: LifecycleVariant): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: BENCH_SECRET })
  await app.register(websocket)
  if (variant === 'baseline') {
    app.get('/ws', { websocket: true }, idle)
    return app
  }
  await app.register(wsBearer, {})
  if (variant === 'refresh') await app.register(firstMessage)
  if (variant === 'untracked') {
    app.get('/ws', {
      websocket: true,
      config: { wsAuth: false },
      preValidation: async (request) => {
        request.identity = await app.wsAuth.verifyToken(request.headers.authorization!.slice('Bearer '.length), request, 'bearer')
      },
    }, idle)
  } else {
    app.get('/ws', { websocket: true, config: { wsAuth: { refresh: variant === 'refresh' } } }, idle)
  }
  return app
}

function measure (app: FastifyInstance, guarded: boolean): Measurement {
  // Two full collections: the first can leave garbage that only a finalizer pass frees.
  globalThis.gc!()
  globalThis.gc!()
  const { heapUsed, rss } = process.memoryUsage()
  const { user, system } = process.cpuUsage()
  return { heapUsed, rss, cpu: user + system, tracked: guarded ? app.wsAuth.connectionCount() : null }
}

if (globalThis.gc === undefined) throw new Error('run with --expose-gc')
const variant = (process.argv[2] ?? 'baseline') as LifecycleVariant
const app = await build(variant)
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.send!({ port: typeof address === 'object' && address !== null ? address.port : 0 })
process.on('message', (message) => {
  if (message === 'measure') {
    process.send!(measure(app, variant !== 'baseline'))
  } else if (message === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send!({ cpu: user + system })
  } else if (message === 'exit') {
    process.exit(0)
  }
})
