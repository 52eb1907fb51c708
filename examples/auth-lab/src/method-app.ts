import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import jwt from '@fastify/jwt'
import websocket, { type WebSocket } from '@fastify/websocket'
import { redactingLoggerOptions } from '@wsauth/core'
import wsBearer from '@wsauth/ws-bearer'
import type { Config } from './config.js'
import { registerLabRoutes } from './lab-routes.js'
import { LogRecord, loggerLevel } from './log-record.js'
import { routesOf, type Method } from './methods.js'
import { SeenAttempts } from './seen.js'

/**
 * One method's wsauth app on its own origin: the guard with only that method's transport, a welcome on both routes,
 * and the lab's routes that tell the page what the guard saw and whether the credential reached the log.
 */
export async function buildMethodApp (method: Method, config: Config, pageOrigins: string[]): Promise<FastifyInstance> {
  const log = new LogRecord(config.logLevel)
  // The constructor's logger options reach every line, Fastify's own included, so what the record holds is what a
  // person's log would hold.
  const app = Fastify({ logger: { level: loggerLevel(config.logLevel), stream: log, ...redactingLoggerOptions() } })
  const routes = routesOf(method)
  const seen = new SeenAttempts([routes.http, routes.close])
  // Listening from onReady: an app that fails to build leaves no subscription behind.
  app.addHook('onReady', async () => seen.start())
  app.addHook('onClose', async () => seen.stop())

  await app.register(jwt, { secret: config.jwtSecret, verify: { algorithms: ['HS256'] } })
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } })
  await app.register(wsBearer, { ...method.guard, origins: pageOrigins })
  await method.setup(app, config)
  await registerLabRoutes(app, { origins: pageOrigins, seen, log })

  const welcome = (socket: WebSocket, request: FastifyRequest): void => {
    const { subject, transport } = request.identity!
    socket.send(JSON.stringify({ type: 'welcome', subject, transport }))
  }
  app.get(routes.http, { websocket: true, config: { wsAuth: { ...method.route, mode: 'http' } } }, welcome)
  app.get(routes.close, { websocket: true, config: { wsAuth: { ...method.route, mode: 'close' } } }, welcome)
  return app
}
