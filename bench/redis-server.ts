// One node of the Redis benchmarks, in a process of its own (see harness.ts): the echo route, the guard on the stores
// the variant names, and, besides 'cpu' and 'exit', 'commands' (how many Redis commands this node has sent) and
// { revoke: jti } (revokes a token on this node; answers once the denylist is written and the message published).
import Fastify, { type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import jwt from '@fastify/jwt'
import wsBearer from '@wsauth/ws-bearer'
import { wsAuthRedis, type RedisStores } from '@wsauth/redis'
import ticket from '@wsauth/ticket'
import { echoRoute, serveBenchmark } from './serve.ts'
import { BENCH_SECRET } from './secret.ts'

const [variant = 'baseline', redisUrl = ''] = process.argv.slice(2)
let commands = 0

function redisStores (): RedisStores {
  const stores = wsAuthRedis(redisUrl, { prefix: 'bench:' })
  // Every command this node sends goes through sendCommand: a count of round trips, as the node sees them.
  const redis = stores.redis as unknown as { sendCommand (...args: unknown[]): unknown }
  const send = redis.sendCommand.bind(redis)
  redis.sendCommand = (...args: unknown[]) => {
    commands++
    return send(...args)
  }
  return stores
}

async function build (): Promise<{ app: FastifyInstance, stores: RedisStores | null }> {
  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: BENCH_SECRET, verify: { cache: true } })
  await app.register(websocket)
  let stores: RedisStores | null = null
  if (variant === 'bearer-memory') await app.register(wsBearer, {})
  if (variant === 'bearer-redis') {
    stores = redisStores()
    await app.register(wsBearer, { stores })
  }
  if (variant === 'ticket-redis') {
    stores = redisStores()
    // @wsauth/ticket, its store the guard's: the Redis single-use store.
    await app.register(wsBearer, { stores })
    await app.register(ticket)
  }
  echoRoute(app)
  return { app, stores }
}

const { app, stores } = await build()
await stores?.ready()
process.on('message', (message: unknown) => {
  if (message === 'commands') process.send!({ commands })
  const revoke = (message as { revoke?: string } | null)?.revoke
  if (revoke !== undefined) {
    app.wsAuth.revokeToken(revoke, Date.now() + 3_600_000).then(() => process.send!({ revoked: revoke }), (error: unknown) => {
      console.error(error)
      process.exit(1)
    })
  }
})
await serveBenchmark(app)
