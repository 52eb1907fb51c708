import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import { sign as signCookie } from '@fastify/cookie'
import type { WebSocket } from 'ws'
import wsBearer, { type WsAuthOptions } from '@wsauth/ws-bearer'
import cookieIframe, { type CookieIframeOptions } from '@wsauth/cookie-iframe'
import { echoesThenCloses, nextMessage, opened } from '../../../test/helpers/ws.ts'
import { SECRET, type SignOptions, type Teardown } from '../../../test/helpers/index.ts'

export { SECRET }
export const COOKIE_SECRET = 'cookie-signing-key-for-the-wsauth-tests-0001'
/** The app page's origin: the one allowed parent and the one allowed WebSocket Origin. */
export const ORIGIN = 'http://localhost:8000'

export interface CookieFixtureOptions {
  /** Guard options on top of `{ origins: [ORIGIN] }`. */
  guard?: WsAuthOptions
  /** Plugin options on top of `{ secret: COOKIE_SECRET }`. */
  plugin?: CookieIframeOptions
  /** Trust `X-Forwarded-Proto`, to play https behind a proxy. */
  trustProxy?: boolean
  logger?: FastifyServerOptions['logger']
  /** Extra routes, registered after the plugin and before listen. */
  routes?: (app: FastifyInstance) => void
}

export interface CookieFixture {
  app: FastifyInstance
  port: number
  /** `http://127.0.0.1:<port><path>`. */
  http (path: string): string
  /** `ws://127.0.0.1:<port><path>`; path defaults to `/ws`. */
  ws (path?: string): string
  sign (payload: Record<string, unknown>, options?: SignOptions): string
  /** How many times the websocket handler ran. */
  readonly handled: number
}

/**
 * @fastify/jwt (SECRET), @fastify/websocket, the guard (`origins: [ORIGIN]`), @wsauth/cookie-iframe (COOKIE_SECRET),
 * and `/ws`, which sends `Welcome <subject> by <transport>!` and echoes `You wrote: <data>`. Listens on 127.0.0.1.
 */
export async function build (t: Teardown, options: CookieFixtureOptions = {}): Promise<CookieFixture> {
  const app = Fastify({ logger: options.logger ?? false, trustProxy: options.trustProxy ?? false })
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  await app.register(wsBearer, { origins: [ORIGIN], ...options.guard })
  await app.register(cookieIframe, { secret: COOKIE_SECRET, ...options.plugin })
  let handled = 0
  app.get('/ws', { websocket: true }, (socket: WebSocket, request) => {
    handled++
    socket.send(`Welcome ${request.identity!.subject} by ${request.identity!.transport}!`)
    socket.on('message', (data) => socket.send(`You wrote: ${String(data)}`))
  })
  options.routes?.(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const jwt = (app as unknown as { jwt: { sign (payload: object, options?: SignOptions): string } }).jwt
  return {
    app,
    port,
    http: (path) => `http://127.0.0.1:${port}${path}`,
    ws: (path = '/ws') => `ws://127.0.0.1:${port}${path}`,
    sign: (payload, signOptions) => (signOptions === undefined ? jwt.sign(payload) : jwt.sign(payload, signOptions)),
    get handled () { return handled },
  }
}

/** `POST /ws-auth/session` with a Bearer token (and any extra headers). */
export function postSession (fx: CookieFixture, token: string | null, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(fx.http('/ws-auth/session'), {
    method: 'POST',
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
  })
}

/** The `name=value` pair of the response's only `Set-Cookie`, ready for a `Cookie` header. */
export function cookiePair (response: Response): string {
  const [setCookie, ...more] = response.headers.getSetCookie()
  if (setCookie === undefined || more.length > 0) throw new Error(`expected one Set-Cookie, got ${1 + more.length}`)
  return setCookie.split(';')[0]!
}

/** A session cookie signed as the plugin would sign it, with any key. */
export function signedCookie (token: string, key: string = COOKIE_SECRET, name = 'wsauth'): string {
  return `${name}=${signCookie(token, key)}`
}

/** A good cookie handshake from the allowed Origin welcomes its subject and echoes: the server is still serving. */
export async function stillServes (t: Test, fx: CookieFixture): Promise<void> {
  const { socket } = await opened(fx.ws(), { headers: { cookie: signedCookie(fx.sign({ sub: 'probe' })) }, origin: ORIGIN })
  t.equal(await nextMessage(socket), 'Welcome probe by cookie!', 'the server still serves a good cookie handshake')
  await echoesThenCloses(t, socket)
}
