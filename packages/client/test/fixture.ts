import { randomUUID } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import type { WebSocket } from 'ws'
import { WsAuthError, type DiscoveryDocument, type DiscoveryRoute, type Identity } from '@wsauth/core'
import wsBearer, { CHANNELS, type WsAuthOptions } from '@wsauth/ws-bearer'
import subprotocolToken from '@wsauth/subprotocol-token'
import firstMessage, { DEFAULT_MESSAGE_NAMES } from '@wsauth/first-message'
import cookieIframe from '@wsauth/cookie-iframe'
import ticket from '@wsauth/ticket'
import type { Timers, TokenReason } from '@wsauth/client'
import { discoveryCloseCodes } from '../../../test/helpers/discovery.ts'

export const SECRET = 'wsauth-client-test-secret-long-enough-for-hs256'
const COOKIE_SECRET = 'wsauth-client-test-cookie-secret-long-enough'
export const TOKEN_TTL_SECONDS = 600
export const EXPIRING_NOTICE_MS = 30_000

/** The slice of tap's `t` the fixture needs. */
export interface Teardown { teardown (fn: () => unknown): void }

export interface ServerOptions {
  /** Listen on this port (a restart); default a free one. */
  port?: number
  guard?: WsAuthOptions
  /**
   * What `GET /.well-known/wsauth` answers: the guard's own document (default), or, with the guard's switched off,
   * another value as JSON, a string as is, `'hang'` for never, a route handler of its own, or `null` for no such route
   * (404).
   */
  discovery?: unknown
  /** Added to the guard's clock, in ms: moves the server's idea of now (expiry, `auth.expiring`) without waiting. */
  skewMs?: number
  /**
   * For pages: every route in close mode (a page sees close codes, never HTTP statuses), the Origin allowlist,
   * @wsauth/cookie-iframe at `/ws-auth`, and `GET /mint?sub=<subject>` answering a fresh token to any origin.
   */
  browser?: { origins: string[] }
  /** @wsauth/ticket at `/ws-ticket`: every route lists the ticket transport. */
  ticket?: boolean
}

export interface Server {
  app: FastifyInstance
  port: number
  /** `ws://127.0.0.1:<port><path>`. */
  url (path: string): string
  /** A JWT for `sub` with a `jti`, expiring TOKEN_TTL_SECONDS after the guard's now. */
  sign (sub: string): string
  /** Moves the guard's clock forward. */
  skew (ms: number): void
  /** Websocket handshakes the server has seen, on any route. */
  readonly handshakes: number
  /** Every message the app's handlers received, as `<path> <text>`. */
  readonly received: string[]
  close (): Promise<void>
}

const FORMATS = ['jupyter', 'kubernetes', 'wsauth']

// Without an application protocol, only JEP 121's format can carry a token.
const route = (path: string, mode: 'http' | 'close', protocols: string[], firstMessage: boolean, refresh: boolean): DiscoveryRoute => ({
  path,
  mode,
  protocols,
  firstMessage,
  refresh,
  transports: { bearer: {}, query: { param: 'token' }, subprotocol: { formats: protocols.length === 0 ? ['jupyter'] : FORMATS } },
})

/**
 * The discovery document of the routes `startServer` registers, as the guard describes them; with `browser`, all in
 * close mode and with the cookie transport; with `withTicket`, the ticket transport too.
 */
export function fixtureDiscovery (browser = false, withTicket = false): DiscoveryDocument {
  const routes = [
    route('/ws', 'http', ['echo.v1'], false, true),
    route('/plain', 'http', ['echo.v1'], false, false),
    route('/fm', 'http', [], true, true),
    route('/close', 'close', ['echo.v1'], false, true),
    route('/rooms/:room', 'http', ['echo.v1'], false, false),
    route('/quiet', 'close', ['echo.v1'], false, false),
  ]
  const ticketTransport = { ticket: { endpoint: '/ws-ticket', param: 'ticket', subprotocolPrefix: 'wsauth.ticket.' } }
  return {
    wsauth: 1,
    inBand: { timeoutMs: 5000, maxPayload: 4096, expiringNoticeMs: EXPIRING_NOTICE_MS, messages: { ...DEFAULT_MESSAGE_NAMES } },
    closeCodes: discoveryCloseCodes(),
    endpoints: { ...(browser && { cookie: '/ws-auth' }), ...(withTicket && { ticket: '/ws-ticket' }) },
    routes: routes.map((entry) => ({
      ...entry,
      ...(browser && { mode: 'close' as const }),
      transports: { ...entry.transports, ...(browser && { cookie: { endpoint: '/ws-auth' } }), ...(withTicket && ticketTransport) },
    })),
  }
}

/** Subjects with a story: `mallory` is refused (403 / 4403), `flood` is rate limited for 30 s (429 / 4429). */
function authorize (identity: Identity): boolean {
  if (identity.subject === 'flood') throw new WsAuthError('rate_limited', 'slow down', { retryAfter: 30 })
  return identity.subject !== 'mallory'
}

/**
 * A real wsauth server on 127.0.0.1: @fastify/jwt, @fastify/websocket, the guard (query on, `authorize` above, a clock
 * that can be moved), @wsauth/subprotocol-token and @wsauth/first-message, and the routes of `fixtureDiscovery`. Each
 * but `/quiet` sends `Welcome <subject> via <transport>!`; all echo `You wrote: <text>`. Closed in `t.teardown` (or by
 * `close`).
 */
export async function startServer (t: Teardown, options: ServerOptions = {}): Promise<Server> {
  let skewMs = options.skewMs ?? 0
  const clock = (): number => Date.now() + skewMs
  const app = Fastify({ logger: false })
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  const browser = options.browser
  const ownDiscovery = options.discovery === undefined
  await app.register(wsBearer, {
    query: true, authorize, clock, discovery: ownDiscovery, ...(browser && { origins: browser.origins }), ...options.guard,
  })
  await app.register(subprotocolToken)
  await app.register(firstMessage, { expiringNoticeMs: EXPIRING_NOTICE_MS })
  if (options.ticket === true) await app.register(ticket)
  if (browser !== undefined) {
    await app.register(cookieIframe, { secret: COOKIE_SECRET })
    app.get('/mint', async (request, reply) => reply.header('access-control-allow-origin', '*')
      .send(sign((request.query as { sub: string }).sub)))
  }

  const jwt = (app as unknown as { jwt: { sign (payload: object): string } }).jwt
  const sign = (sub: string): string => jwt.sign({ sub, jti: randomUUID(), exp: Math.floor(clock() / 1000) + TOKEN_TTL_SECONDS })
  let handshakes = 0
  const received: string[] = []
  app.addHook('onRequest', async (request) => {
    if (request.headers.upgrade === 'websocket') handshakes++
  })
  const discovery = options.discovery
  if (typeof discovery === 'function') {
    app.get('/.well-known/wsauth', discovery as (request: FastifyRequest, reply: FastifyReply) => void)
  } else if (discovery !== null && !ownDiscovery) {
    app.get('/.well-known/wsauth', (_request, reply) => {
      if (discovery === 'hang') return
      reply.header('cache-control', 'no-cache').header('access-control-allow-origin', '*')
      if (typeof discovery === 'string') reply.type('application/json').send(discovery)
      else reply.send(discovery)
    })
  }

  const welcomeAndEcho = (path: string) => (socket: WebSocket, request: FastifyRequest): void => {
    if (path !== '/quiet') socket.send(`Welcome ${request.identity!.subject} via ${request.identity!.transport}!`)
    socket.on('message', (data) => {
      received.push(`${path} ${String(data)}`)
      socket.send(`You wrote: ${String(data)}`)
    })
  }
  for (const { path, mode, protocols, firstMessage, refresh } of fixtureDiscovery(browser !== undefined, options.ticket).routes) {
    app.get(path, { websocket: true, config: { wsAuth: { mode, protocols, firstMessage, refresh } } }, welcomeAndEcho(path))
  }

  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await app.close()
  }
  t.teardown(close)
  return {
    app,
    port,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    sign,
    skew: (ms) => { skewMs += ms },
    get handshakes () { return handshakes },
    received,
    close,
  }
}

/** A `getToken` that signs a fresh token for `subject` on every call, and records why it was called. */
export function tokenSource (server: { sign (sub: string): string }, subject = 'alice'): {
  reasons: TokenReason[]
  tokens: string[]
  getToken (context: { reason: TokenReason }): Promise<string>
} {
  const reasons: TokenReason[] = []
  const tokens: string[] = []
  return {
    reasons,
    tokens,
    async getToken ({ reason }) {
      reasons.push(reason)
      tokens.push(server.sign(subject))
      return tokens.at(-1)!
    },
  }
}

/**
 * Timers the test fires by hand: the client's backoff, confirmation, stability and renewal waits, and its request
 * timeouts, run only when the test says so. Nothing waits on the wall clock.
 */
export class ManualTimers implements Timers {
  #next = 1
  readonly #pending = new Map<number, { ms: number, callback: () => void }>()

  setTimeout (callback: () => void, ms: number): number {
    const id = this.#next++
    this.#pending.set(id, { ms, callback })
    return id
  }

  clearTimeout (handle: unknown): void {
    this.#pending.delete(handle as number)
  }

  /** The delays of the timers still pending, in the order they were set. */
  get delays (): number[] {
    return [...this.#pending.values()].map((timer) => timer.ms)
  }

  /** Runs the oldest pending timer set for `ms` (or matching `ms`); throws when there is none. */
  fire (ms: number | ((ms: number) => boolean)): void {
    const match = typeof ms === 'number' ? (value: number) => value === ms : ms
    for (const [id, timer] of this.#pending) {
      if (!match(timer.ms)) continue
      this.#pending.delete(id)
      timer.callback()
      return
    }
    throw new Error(`no pending timer for ${String(ms)}; pending: ${this.delays.join(', ')}`)
  }
}

/** Resolves with the next event of `type` for which `accept` holds. */
export function nextEvent<E extends Event> (target: EventTarget, type: string, accept: (event: E) => boolean = () => true): Promise<E> {
  return new Promise((resolve) => {
    const listener = (event: Event): void => {
      if (!accept(event as E)) return
      target.removeEventListener(type, listener)
      resolve(event as E)
    }
    target.addEventListener(type, listener)
  })
}

/** Resolves once the client is in `state` (at once if it is). */
export async function reaches (client: EventTarget & { state: string }, state: string): Promise<void> {
  if (client.state === state) return
  await nextEvent<Event & { state: string }>(client, 'state', (event) => event.state === state)
}

/** Resolves with the next `count` app messages the client delivers. */
export function messages (client: EventTarget, count: number): Promise<unknown[]> {
  const seen: unknown[] = []
  return new Promise((resolve) => {
    const listener = (event: Event): void => {
      seen.push((event as Event & { data: unknown }).data)
      if (seen.length < count) return
      client.removeEventListener('message', listener)
      resolve(seen)
    }
    client.addEventListener('message', listener)
  })
}

/** Resolves once the guard has refreshed a live socket's credential (its `wsauth:refreshed` diagnostics event). */
export function refreshed (): Promise<void> {
  return new Promise((resolve) => {
    const onRefreshed = (): void => {
      unsubscribe(CHANNELS.refreshed, onRefreshed)
      resolve()
    }
    subscribe(CHANNELS.refreshed, onRefreshed)
  })
}
