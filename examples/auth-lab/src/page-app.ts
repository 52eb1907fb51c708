import { readFile } from 'node:fs/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import jwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import { redactingLoggerOptions } from '@wsauth/core'
import wsBearer from '@wsauth/ws-bearer'
import passwordBearer, { MemoryUserStore } from '@wsauth/password-bearer'
import { pageOrigins, type Config } from './config.js'
import { COOKIE_PREFIX, CROSS_SITE_METHODS, LAB_PROTOCOL, TICKET_PATH, METHODS, routesOf } from './methods.js'

export const DEMO_USER = { username: 'johndoe', password: 'secret' } as const

const PUBLIC = new URL('../public/', import.meta.url)

interface Asset { path: string, file: URL, type: string }

const HTML = 'text/html; charset=utf-8'
const JS = 'text/javascript; charset=utf-8'
const ASSETS: Asset[] = [
  { path: '/', file: new URL('index.html', PUBLIC), type: HTML },
  { path: '/cross-site', file: new URL('cross-site.html', PUBLIC), type: HTML },
  { path: '/lab.js', file: new URL('lab.js', PUBLIC), type: JS },
  { path: '/attempt.js', file: new URL('attempt.js', PUBLIC), type: JS },
  { path: '/cross-site.js', file: new URL('cross-site.js', PUBLIC), type: JS },
  { path: '/style.css', file: new URL('style.css', PUBLIC), type: 'text/css; charset=utf-8' },
  // The cookie app's browser helper, as @wsauth/cookie-iframe builds and exports it.
  { path: '/cookie-client.js', file: new URL(import.meta.resolve('@wsauth/cookie-iframe/browser')), type: JS },
]

/** Where a method's app answers, as the page reaches it: `localhost`, the page's own site. */
function appOrigin (config: Config, portOffset: number, scheme: 'http' | 'ws'): string {
  return `${scheme}://localhost:${config.portBase + portOffset}`
}

/** What the page needs to run the lab: the methods, their apps' origins and routes. Nothing secret. */
export function labSetup (config: Config): object {
  return {
    pageOrigins: pageOrigins(config),
    protocol: LAB_PROTOCOL,
    cookiePrefix: COOKIE_PREFIX,
    ticketPath: TICKET_PATH,
    crossSiteMethods: CROSS_SITE_METHODS,
    methods: METHODS.map((method) => ({
      id: method.id,
      label: method.label,
      readme: method.readme,
      origin: appOrigin(config, method.portOffset, 'http'),
      ws: appOrigin(config, method.portOffset, 'ws'),
      routes: routesOf(method),
    })),
  }
}

/** The page may talk to the method apps and frame the cookie app's iframe; nothing else from elsewhere. */
function contentSecurityPolicy (config: Config): string {
  const connect = METHODS.flatMap((method) => [appOrigin(config, method.portOffset, 'http'), appOrigin(config, method.portOffset, 'ws')])
  const frames = METHODS.filter((method) => method.id === 'cookie').map((method) => appOrigin(config, method.portOffset, 'http'))
  return [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    `connect-src 'self' ${connect.join(' ')}`, `frame-src ${frames.join(' ') || "'none'"}`,
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * The lab's page server: the page, the cross-site page and their scripts, `GET /lab/setup`, and `POST /token` (the
 * password grant) whose tokens every method app verifies with the same key.
 */
export async function buildPageApp (config: Config): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: config.logLevel, ...redactingLoggerOptions() } })
  const users = new MemoryUserStore()
  await users.add(DEMO_USER.username, DEMO_USER.password, { scopes: ['lab'] })

  await app.register(jwt, { secret: config.jwtSecret, verify: { algorithms: ['HS256'] } })
  // password-bearer revokes through the guard; the page server has no websocket route of its own.
  await app.register(websocket)
  await app.register(wsBearer)
  await app.register(passwordBearer, { users, accessTokenTtl: config.tokenTtlSeconds })

  const csp = contentSecurityPolicy(config)
  const setup = labSetup(config)
  app.get('/lab/setup', async () => setup)
  for (const asset of ASSETS) {
    const body = await readFile(asset.file)
    app.get(asset.path, async (_request, reply) => reply
      .type(asset.type)
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(body))
  }
  return app
}
