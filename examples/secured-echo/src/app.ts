import { readFile } from 'node:fs/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import jwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import { redactingLoggerOptions } from '@wsauth/core'
import wsBearer from '@wsauth/ws-bearer'
import passwordBearer, { MemoryUserStore } from '@wsauth/password-bearer'
import type { Config } from './config.js'

export const DEMO_USERS = [
  { username: 'johndoe', password: 'secret', scopes: ['chat'] },
  { username: 'janedoe', password: 'secret2', scopes: ['chat'] },
] as const

const page = new URL('../public/index.html', import.meta.url)

export async function buildApp (config: Config): Promise<FastifyInstance> {
  // The constructor's logger options reach every route, Fastify's default 404 included, so no `?token=` is logged.
  const app = Fastify({ logger: { level: config.logLevel, ...redactingLoggerOptions(['token']) } })
  const users = new MemoryUserStore()
  for (const user of DEMO_USERS) await users.add(user.username, user.password, { scopes: [...user.scopes] })

  await app.register(jwt, { secret: config.jwtSecret, verify: { algorithms: ['HS256'], cache: true } })
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } })
  await app.register(wsBearer, {
    origins: config.allowedOrigins,
    query: true,
    basic: {
      // `johndoe:secret` in the URI user info: checked like a login, throttled like one.
      verifyPassword: (username, password, request) => app.passwordBearer.authenticateUser(username, password, request),
    },
  })
  await app.register(passwordBearer, { users, accessTokenTtl: config.tokenTtlSeconds })

  app.get('/secured-ws', { websocket: true }, (socket, request) => {
    socket.send(`Welcome ${request.identity!.subject}!`)
    socket.on('message', (data, isBinary) => {
      if (!isBinary) socket.send(`You wrote: ${String(data)}`)
    })
  })

  const html = await readFile(page, 'utf8')
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html))
  return app
}
