import { readFile } from 'node:fs/promises'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import jwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import type { WebSocket } from '@fastify/websocket'
import { redactingLoggerOptions, type Clock, type RefreshTokenStore } from '@wsauth/core'
import wsBearer from '@wsauth/ws-bearer'
import subprotocolToken from '@wsauth/subprotocol-token'
import cookieIframe from '@wsauth/cookie-iframe'
import passwordBearer, { MemoryUserStore } from '@wsauth/password-bearer'
import firstMessage from '@wsauth/first-message'
import ticket from '@wsauth/ticket'
import oauth2Login from '@wsauth/oauth2-login'
import { wsAuthRedis } from '@wsauth/redis'
import type { Config, OidcConfig } from './config.js'

export const DEMO_USERS = [
  { username: 'johndoe', password: 'secret', scopes: ['chat'] },
  { username: 'janedoe', password: 'secret2', scopes: ['chat'] },
] as const

const page = new URL('../public/index.html', import.meta.url)
// The page's client: @wsauth/client's browser bundle (built by the root `pnpm run build`).
const clientBundle = new URL(import.meta.resolve('@wsauth/client/browser'))

function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

/** The page's "Sign in with …" button, where the page marks its place. */
function withProviderButton (html: string, oidc: OidcConfig): string {
  return html.replace('<!-- sign in with a provider -->',
    `<p><a id="provider-sign-in" href="/login/oidc">Sign in with ${escapeHtml(oidc.providerName)}</a></p>`)
}

export interface BuildOptions {
  /** The guard's clock, for live-socket expiry and `auth.expiring`; `Date.now` unless a test moves time itself. */
  clock?: Clock
  /** Where refresh-token families live; in memory by default. One that outlives the app lets sessions survive a restart. */
  refreshTokens?: RefreshTokenStore
}

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  // The constructor's logger options reach every line, Fastify's default 404 included, so no `?token=` is logged.
  const app = Fastify({ logger: { level: config.logLevel, ...redactingLoggerOptions() } })
  const users = new MemoryUserStore()
  for (const user of DEMO_USERS) await users.add(user.username, user.password, { scopes: [...user.scopes] })

  await app.register(jwt, { secret: config.jwtSecret, verify: { algorithms: ['HS256'], cache: true } })
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } })
  // With REDIS_URL, one line puts every wsauth store and the revocation bus on Redis.
  const stores = config.redisUrl === null ? undefined : wsAuthRedis(config.redisUrl, { prefix: 'secured-echo:' })
  if (stores !== undefined) app.addHook('onClose', () => stores.close())
  await app.register(wsBearer, {
    ...(stores !== undefined && { stores }),
    origins: config.allowedOrigins,
    query: true,
    clock: options.clock ?? Date.now,
    basic: {
      // `johndoe:secret` in the URI user info: checked like a login, throttled like one.
      verifyPassword: (username, password, request) => app.passwordBearer.authenticateUser(username, password, request),
    },
  })
  // Tokens in Sec-WebSocket-Protocol (JEP 121, Kubernetes, wsauth formats): the 101 echoes `echo.v1`, never the token.
  await app.register(subprotocolToken)
  // Single-use tickets: `POST /ws-ticket` turns a token into a 30-second ticket for `?ticket=` or a subprotocol.
  await app.register(ticket)
  await app.register(passwordBearer, { users, accessTokenTtl: config.tokenTtlSeconds, refreshTokens: options.refreshTokens })
  // The hidden-iframe cookie: pages on the allowed origins turn a token into an HttpOnly cookie on this origin.
  await app.register(cookieIframe, { prefix: '/ws-auth', secret: config.cookieSecrets })
  // Authentication by the first message (`/first-message-ws`), and in-band refresh (`auth.refresh`) on both routes.
  await app.register(firstMessage)
  // Sign-in with an OpenID Connect provider (examples/dev-idp, or any other), ending in the same tokens as /token's.
  if (config.oidc !== null) {
    await app.register(oauth2Login, {
      issuer: config.oidc.issuer,
      clientId: config.oidc.clientId,
      clientSecret: config.oidc.clientSecret,
      resolveUser: (claims) => ({
        subject: typeof claims.preferred_username === 'string' ? claims.preferred_username : claims.sub!,
        scopes: ['chat'],
      }),
    })
  }

  const welcomeAndEcho = (socket: WebSocket, request: FastifyRequest): void => {
    socket.send(`Welcome ${request.identity!.subject}!`)
    socket.on('message', (data, isBinary) => {
      if (!isBinary) socket.send(`You wrote: ${String(data)}`)
    })
  }
  app.get('/secured-ws', { websocket: true, config: { wsAuth: { protocols: ['echo.v1'], refresh: true } } }, welcomeAndEcho)
  app.get('/first-message-ws', { websocket: true, config: { wsAuth: { firstMessage: true, refresh: true } } }, welcomeAndEcho)

  const file = await readFile(page, 'utf8')
  const html = config.oidc === null ? file : withProviderButton(file, config.oidc)
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html))
  const client = await readFile(clientBundle, 'utf8')
  app.get('/wsauth-client.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(client))
  return app
}
