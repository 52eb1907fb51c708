// One benchmark server per process, so its CPU time (process.cpuUsage) is its own. The parent sends 'cpu' and
// gets the usage back; 'exit' stops it.
import Fastify, { type FastifyInstance } from 'fastify'
import { echoRoute, serveBenchmark } from './serve.ts'
import websocket from '@fastify/websocket'
import jwt from '@fastify/jwt'
import wsBearer from '@wsauth/ws-bearer'
import cookieIframe from '@wsauth/cookie-iframe'
import subprotocolToken from '@wsauth/subprotocol-token'
import ticket from '@wsauth/ticket'
import { BENCH_COOKIE_SECRET, BENCH_ORIGIN, BENCH_SECRET } from './secret.ts'

async function build (variant: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(jwt, { secret: BENCH_SECRET, verify: { cache: true } })
  await app.register(websocket)
  if (variant === 'guard') await app.register(wsBearer, {})
  if (variant === 'cookie') {
    await app.register(wsBearer, { origins: [BENCH_ORIGIN] })
    await app.register(cookieIframe, { secret: BENCH_COOKIE_SECRET })
  }
  if (variant === 'subprotocol') {
    await app.register(wsBearer, {})
    await app.register(subprotocolToken, { protocols: ['echo.v1'] })
  }
  if (variant === 'ticket') {
    await app.register(wsBearer, {})
    // The longest lifetime: tickets are minted a round ahead. No limit: one subject mints them all.
    await app.register(ticket, { lifetime: 300, rateLimit: false })
  }
  echoRoute(app)
  return app
}

const variant = process.argv[2] ?? 'baseline'
const app = await build(variant)
await serveBenchmark(app)
