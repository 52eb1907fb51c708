import type { FastifyInstance } from 'fastify'
import type { WsAuthOptions, WsAuthRouteOptions } from '@wsauth/ws-bearer'
import firstMessage from '@wsauth/first-message'
import cookieIframe from '@wsauth/cookie-iframe'
import subprotocolToken from '@wsauth/subprotocol-token'
import ticket from '@wsauth/ticket'
import type { Config } from './config.js'

export type MethodId = 'first-message' | 'query' | 'cookie' | 'userinfo' | 'subprotocol' | 'ticket'

/** One way of authenticating, and the wsauth app that accepts it on its own origin. */
export interface Method {
  id: MethodId
  /** What the page's row calls it. */
  label: string
  /** The app's port is the lab's base port plus this. */
  portOffset: number
  /** The package README section that explains the method. */
  readme: string
  /** The guard's options beyond the lab's common ones (origins, clock). */
  guard: Partial<WsAuthOptions>
  /** Both of the app's websocket routes take these. */
  route: WsAuthRouteOptions
  /** Registers the method's own transport plugin, after the guard. */
  setup: (app: FastifyInstance, config: Config) => Promise<void>
}

const REPO = 'https://github.com/wsauth/wsauth/tree/main/packages'

/** The application subprotocol of the subprotocol app: the 101 echoes it, never the token. */
export const LAB_PROTOCOL = 'lab.v1'
/**
 * The methods the cross-site row tries from the page on 127.0.0.1: the cookie, which SameSite stops, and the ticket,
 * which nothing ambient carries, so it does not care.
 */
export const CROSS_SITE_METHODS: readonly MethodId[] = ['cookie', 'ticket']
/** Where the ticket app mints tickets: @wsauth/ticket's default. */
export const TICKET_PATH = '/ws-ticket'
/** Where the cookie app serves its iframe, session exchange and browser helper. */
export const COOKIE_PREFIX = '/ws-auth'

const nothingToRegister = async (): Promise<void> => {}

export const METHODS: readonly Method[] = [
  {
    id: 'first-message',
    label: 'First message',
    portOffset: 1,
    readme: `${REPO}/first-message#the-protocol`,
    guard: {},
    route: { firstMessage: true },
    setup: async (app) => { await app.register(firstMessage) },
  },
  {
    id: 'query',
    label: 'Query parameter',
    portOffset: 2,
    readme: `${REPO}/ws-bearer#options`,
    guard: { query: true },
    route: {},
    setup: nothingToRegister,
  },
  {
    id: 'cookie',
    label: 'Cookie (hidden iframe)',
    portOffset: 3,
    readme: `${REPO}/cookie-iframe#readme`,
    guard: {},
    route: {},
    setup: async (app, config) => { await app.register(cookieIframe, { prefix: COOKIE_PREFIX, secret: config.cookieSecrets }) },
  },
  {
    id: 'userinfo',
    label: 'URI user info (Basic)',
    portOffset: 4,
    readme: `${REPO}/ws-bearer#options`,
    // `token:<access token>` in the user info; the guard's Basic extractor reads the password as the token.
    guard: { basic: true },
    route: {},
    setup: nothingToRegister,
  },
  {
    id: 'subprotocol',
    label: 'Subprotocol token',
    portOffset: 5,
    readme: `${REPO}/subprotocol-token#formats`,
    guard: {},
    route: { protocols: [LAB_PROTOCOL] },
    setup: async (app) => { await app.register(subprotocolToken) },
  },
  {
    id: 'ticket',
    label: 'Ticket',
    portOffset: 6,
    readme: `${REPO}/ticket#readme`,
    // `POST /ws-ticket` (Bearer in, single-use ticket out), then `?ticket=` on the socket.
    guard: {},
    route: {},
    setup: async (app) => { await app.register(ticket, { path: TICKET_PATH }) },
  },
]

/** The method's two websocket routes: the guard answers over HTTP on the first, by close code on the second. */
export function routesOf (method: Pick<Method, 'id'>): { http: string, close: string } {
  return { http: `/${method.id}`, close: `/${method.id}/close-mode` }
}
