import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import Fastify, { type FastifyInstance } from 'fastify'
import jwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import { redactingLoggerOptions, type Clock } from '@wsauth/core'
import wsBearer, { CHANNELS, type LiveSocketEvent } from '@wsauth/ws-bearer'
import subprotocolToken from '@wsauth/subprotocol-token'
import passwordBearer from '@wsauth/password-bearer'
import firstMessage from '@wsauth/first-message'
import oauth2Login from '@wsauth/oauth2-login'
import { wsAuthRedis } from '@wsauth/redis'
import { Chat } from './chat.js'
import type { Config } from './config.js'
import type { ChatHub } from './hub/hub.js'
import { MemoryHub } from './hub/memory.js'
import { RedisHub } from './hub/redis.js'
import { registerPage } from './page.js'
import { RateLimiter } from './rate-limit.js'
import { CHAT_SCOPE } from './rooms.js'
import { chatUsers, providerUser } from './users.js'

/** The websocket route, and the application subprotocol it speaks. */
export const CHAT_PATH = '/chat'
export const CHAT_PROTOCOL = 'chat.v1'
/** The largest frame the server reads at all; the chat protocol refuses (with an error frame) anything over 4 KB. */
const MAX_FRAME_BYTES = 64 * 1024

export interface BuildOptions {
  /**
   * One clock for the tokens issued, the guard (expiry, `auth.expiring`), the rate limit and message stamps, so a test
   * moves them all at once. Default `Date.now`.
   */
  clock?: Clock
  /** The hub; default `RedisHub` on `config.redisUrl`, else `MemoryHub`. Closed with the app. */
  hub?: ChatHub
  /** Where log lines go; default stdout. */
  logStream?: NodeJS.WritableStream
}

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const clock = options.clock ?? Date.now
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(options.logStream !== undefined && { stream: options.logStream }),
      ...redactingLoggerOptions(),
    },
  })
  const users = await chatUsers()

  await app.register(jwt, { secret: config.jwtSecret, verify: { algorithms: ['HS256'], cache: true } })
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } })
  // On Redis, every wsauth store and the revocation bus too: a sign-out on one node closes the user's sockets on all.
  const stores = config.redisUrl === null ? undefined : wsAuthRedis(config.redisUrl, { prefix: 'secured-chat:wsauth:' })
  if (stores !== undefined) app.addHook('onClose', () => stores.close())
  await app.register(wsBearer, { origins: config.allowedOrigins, clock, ...(stores !== undefined && { stores }) })
  await app.register(subprotocolToken)
  await app.register(passwordBearer, { users, accessTokenTtl: config.tokenTtlSeconds, clock })
  await app.register(firstMessage)
  // "Sign in with the dev provider" (examples/dev-idp, or any OpenID Connect provider): the same tokens as /token's.
  if (config.oidc !== null) {
    const { issuer, clientId, clientSecret } = config.oidc
    await app.register(oauth2Login, { issuer, clientId, clientSecret, resolveUser: providerUser(users) })
  }

  const hub = options.hub ?? (config.redisUrl === null
    ? new MemoryHub({ clock })
    : new RedisHub({ redis: config.redisUrl, clock, onError: (error) => app.log.warn({ err: error }, 'chat hub: redis') }))
  const chat = new Chat({
    hub,
    limiter: new RateLimiter({ perSecond: config.messagesPerSecond, clock }),
    floodLimit: config.messagesPerSecond,
    log: app.log,
  })
  await hub.start((event) => chat.deliver(event))

  // The guard replaces a socket's identity when it is refreshed in band; the chat then re-checks that user's rooms.
  const onRefreshed = (event: unknown): void => chat.recheck((event as LiveSocketEvent).subject)
  subscribe(CHANNELS.refreshed, onRefreshed)
  app.addHook('onClose', async () => {
    unsubscribe(CHANNELS.refreshed, onRefreshed)
    await hub.close()
  })

  app.get(CHAT_PATH, {
    websocket: true,
    config: {
      wsAuth: {
        // A page can't read the status of a refused handshake, only a close code.
        mode: 'close',
        protocols: [CHAT_PROTOCOL],
        refresh: true,
        authorize: (identity) => identity.scopes.includes(CHAT_SCOPE),
      },
    },
  }, (socket, request) => chat.open(socket, request))

  await registerPage(app, { providerName: config.oidc?.providerName ?? null })
  return app
}
