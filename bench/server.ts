// One benchmark server per process, so its CPU time (process.cpuUsage) is its own. The parent sends 'cpu' and
// gets the usage back; 'exit' stops it.
import Fastify, { type FastifyInstance } from 'fastify'
import websocket from '@fastify/websocket'
import jwt from '@fastify/jwt'
import wsBearer from '@wsauth/ws-bearer'
import cookieIframe from '@wsauth/cookie-iframe'
import subprotocolToken from '@wsauth/subprotocol-token'
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
  app.get('/ws', { websocket: true }, (socket, request) => {
    socket.send(`Welcome ${request.identity?.subject ?? 'anonymous'}!`)
    socket.on('message', (data) => socket.send(`You wrote: ${String(data)}`))
  })
  return app
}

const variant = process.argv[2] ?? 'baseline'
const app = await build(variant)
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.send!({ port: typeof address === 'object' && address !== null ? address.port : 0 })
process.on('message', (message) => {
  if (message === 'cpu') {
    const usage = process.cpuUsage()
    process.send!({ cpu: usage.user + usage.system })
  } else if (message === 'exit') {
    app.close().then(() => process.exit(0), () => process.exit(1))
  }
})
