import { createHmac } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import type { WebSocket } from 'ws'
import wsBearer, { type WsAuthOptions } from '@wsauth/ws-bearer'
import { closed, echoesThenCloses, nextMessage, opened, type Refused } from '../../../test/helpers/ws.ts'

export const SECRET = 'wsauth-test-secret-that-is-long-enough-for-hs256'
export const OTHER_SECRET = 'another-secret-that-nobody-on-this-server-knows'

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
 * An app with @fastify/jwt (SECRET), @fastify/websocket, the guard with `options.guard`, and:
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

function base64url (value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** A JWT put together by hand: any header, any payload, HS256 over `key`, or no signature at all for `null`. */
export function craftJwt (header: Record<string, unknown>, payload: Record<string, unknown>, key: string | null): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  const signature = key === null ? '' : createHmac('sha256', key).update(input).digest('base64url')
  return `${input}.${signature}`
}

export function nowSeconds (): number {
  return Math.floor(Date.now() / 1000)
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

/** Close mode: the handshake is upgraded, then closed at once; resolves with the close code and reason. */
export async function closedOnOpen (url: string, options?: Parameters<typeof opened>[1]): Promise<{ code: number, reason: string }> {
  const { socket } = await opened(url, options)
  const result = await closed(socket)
  const leaked = await nextMessage(socket).catch(() => null)
  if (leaked !== null) throw new Error(`a rejected socket received ${JSON.stringify(leaked)}`)
  return result
}

/** A Writable that keeps every log line Fastify writes. */
export function logCollector (): { stream: Writable, lines: string[] } {
  const lines: string[] = []
  let pending = ''
  const stream = new Writable({
    write (chunk: Buffer | string, _encoding, callback) {
      pending += String(chunk)
      let newline = pending.indexOf('\n')
      while (newline !== -1) {
        lines.push(pending.slice(0, newline))
        pending = pending.slice(newline + 1)
        newline = pending.indexOf('\n')
      }
      callback()
    },
  })
  return { stream, lines }
}

export interface ExpectedRefusal {
  status: number
  /** The exact `WWW-Authenticate` value as the client sees it (Node joins two lines with `, `); `null`: none. */
  wwwAuthenticate?: string | null
  body?: { error: string, error_description: string }
}

/** Asserts an HTTP refusal of a handshake: status, and `WWW-Authenticate` and the JSON body when given. */
export function assertRefused (t: Test, refusal: Refused, expected: ExpectedRefusal, name = ''): void {
  const prefix = name === '' ? '' : `${name}: `
  t.equal(refusal.status, expected.status, `${prefix}status ${expected.status}`)
  if (expected.wwwAuthenticate !== undefined) {
    t.equal(refusal.headers['www-authenticate'], expected.wwwAuthenticate ?? undefined, `${prefix}WWW-Authenticate`)
  }
  if (expected.body !== undefined) {
    t.strictSame(JSON.parse(refusal.body), expected.body, `${prefix}body`)
  }
}

export const CHALLENGE = 'Bearer realm="wsauth"'
export const INVALID_TOKEN_CHALLENGE = 'Bearer realm="wsauth", error="invalid_token"'
export const INVALID_REQUEST_CHALLENGE = 'Bearer realm="wsauth", error="invalid_request"'
export const BASIC_CHALLENGE = 'Basic realm="wsauth", charset="UTF-8"'
