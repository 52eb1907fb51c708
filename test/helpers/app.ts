import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import type { WebSocket } from 'ws'
import wsBearer, { type WsAuthOptions } from '@wsauth/ws-bearer'
import { SECRET } from './jwt.ts'
import { echoesThenCloses, nextMessage, opened } from './ws.ts'

/** The slice of tap's `t` the fixture needs (close apps in teardown). */
export interface Teardown { teardown (fn: () => unknown): void }

export interface SignOptions {
  expiresIn?: number | string
  notBefore?: number | string
  jti?: string
}

export interface FixtureOptions {
  /** Guard options. */
  guard?: WsAuthOptions
  /** @fastify/jwt options on top of `{ secret: SECRET }`; `false` registers no @fastify/jwt. */
  jwt?: Partial<FastifyJWTOptions> | false
  logger?: FastifyServerOptions['logger']
  /** Registers more plugins (a transport package, say) after the guard and before the routes. */
  plugins?: (app: FastifyInstance) => Promise<void>
  /** Extra routes, registered after the guard (so it covers them) and before listen. */
  routes?: (app: FastifyInstance) => void
}

export interface Fixture {
  app: FastifyInstance
  port: number
  /** `ws://127.0.0.1:<port><path>`; path defaults to `/ws`. */
  url (path?: string): string
  /** Signs a JWT with the app's @fastify/jwt (HS256, SECRET). */
  sign (payload: Record<string, unknown>, options?: SignOptions): string
  /** How many times a websocket handler of the fixture ran (the app code a rejected socket must never reach). */
  readonly handled: number
  /** Resolves once every server-side socket the handlers saw so far has closed. */
  serverSocketsClosed (): Promise<void>
}

/**
 * An app with @fastify/jwt (SECRET), @fastify/websocket, the guard with `options.guard`, `options.plugins`, and:
 * - `/ws`: sends `Welcome <subject>!` (or `Welcome anonymous!`), then echoes `You wrote: <data>`;
 * - `/identity`: sends `JSON.stringify(request.identity)`;
 * - `/open`: opted out with `config: { wsAuth: false }`, sends the identity (null) as JSON;
 * - `/close-mode`: `config: { wsAuth: { mode: 'close' } }`, same as `/ws`.
 * Listens on 127.0.0.1, a free port; closed in `t.teardown`.
 */
export async function build (t: Teardown, options: FixtureOptions = {}): Promise<Fixture> {
  const app = Fastify({ logger: options.logger ?? false })
  t.teardown(() => app.close())
  if (options.jwt !== false) await app.register(fastifyJwt, { secret: SECRET, ...options.jwt })
  await app.register(fastifyWebsocket)
  await app.register(wsBearer, options.guard ?? {})
  await options.plugins?.(app)

  let handled = 0
  const serverClosed: Promise<void>[] = []
  const track = (socket: WebSocket): void => {
    handled++
    serverClosed.push(new Promise((resolve) => socket.once('close', () => resolve())))
  }

  const welcomeAndEcho = (socket: WebSocket, request: FastifyRequest): void => {
    track(socket)
    socket.send(`Welcome ${request.identity?.subject ?? 'anonymous'}!`)
    socket.on('message', (data) => socket.send(`You wrote: ${String(data)}`))
  }
  const sendIdentity = (socket: WebSocket, request: FastifyRequest): void => {
    track(socket)
    socket.send(JSON.stringify(request.identity))
  }

  app.get('/ws', { websocket: true }, welcomeAndEcho)
  app.get('/identity', { websocket: true }, sendIdentity)
  app.get('/open', { websocket: true, config: { wsAuth: false } }, sendIdentity)
  app.get('/close-mode', { websocket: true, config: { wsAuth: { mode: 'close' } } }, welcomeAndEcho)
  options.routes?.(app)

  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port

  return {
    app,
    port,
    url: (path = '/ws') => `ws://127.0.0.1:${port}${path}`,
    sign: (payload, signOptions) => {
      const jwt = (app as unknown as { jwt: { sign (payload: object, options?: SignOptions): string } }).jwt
      return signOptions === undefined ? jwt.sign(payload) : jwt.sign(payload, signOptions)
    },
    get handled () { return handled },
    serverSocketsClosed: async () => { await Promise.all(serverClosed) },
  }
}

export function bearer (token: string): { headers: Record<string, string> } {
  return { headers: { Authorization: `Bearer ${token}` } }
}

export function basic (raw: string | Buffer): { headers: Record<string, string> } {
  return { headers: { Authorization: `Basic ${Buffer.from(raw).toString('base64')}` } }
}

/** A good handshake on `/ws` (as `probe`, with `claims`) succeeds and echoes: the server is still serving. */
export async function stillServes (
  t: Test,
  fixture: Fixture,
  claims: Record<string, unknown> = {}
): Promise<void> {
  const { socket } = await opened(fixture.url(), bearer(fixture.sign({ ...claims, sub: 'probe' })))
  t.equal(await nextMessage(socket), 'Welcome probe!', 'the server still serves a good handshake')
  await echoesThenCloses(t, socket)
}
