import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import type { WebSocket } from 'ws'
import wsBearer, { type WsAuthOptions } from '@wsauth/ws-bearer'
import firstMessage, { type FirstMessageOptions } from '@wsauth/first-message'
import { SECRET, claimsOf, closed, nextMessage, opened } from '../../../test/helpers/index.ts'

export { SECRET, claimsOf }

/** The first-message deadline of these apps: far above any delay of a busy machine. The deadline's own tests set theirs. */
export const DEADLINE_MS = 60_000

export interface FixtureOptions {
  guard?: WsAuthOptions
  firstMessage?: FirstMessageOptions
  /** The ws server's own message size limit (@fastify/websocket `options.maxPayload`). */
  serverMaxPayload?: number
}

export interface Fixture {
  app: FastifyInstance
  /** `ws://127.0.0.1:<port><path>`. */
  url (path: string): string
  /** A JWT for `sub` (HS256, SECRET); `expiresIn` in seconds, default 600. */
  sign (sub: string, options?: { expiresIn?: number, jti?: string, scope?: string }): string
  /** How many sockets the app's handlers were given. */
  readonly handled: number
  /** Every message the app's handlers received, in order, as `<path> <text>`. */
  readonly received: string[]
}

/**
 * An app with @fastify/jwt, @fastify/websocket, the guard and @wsauth/first-message (`timeoutMs: DEADLINE_MS` unless
 * `options.firstMessage` says otherwise), and these routes, each of which
 * sends `Welcome <subject>!` and then echoes `You wrote: <text>`:
 * - `/fm`: first message, refresh on;
 * - `/fm-only`: first message, refresh off;
 * - `/ws`: handshake credentials, refresh on;
 * - `/plain`: handshake credentials, refresh off;
 * - `/fm-admin`: first message, refresh on, only for the `admin` scope;
 * - `/fm-identity`: first message, sends `JSON.stringify(request.identity)` instead.
 * Listens on 127.0.0.1, a free port; closed in `t.teardown`.
 */
export async function build (t: Test, options: FixtureOptions = {}): Promise<Fixture> {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket, options.serverMaxPayload === undefined ? {} : { options: { maxPayload: options.serverMaxPayload } })
  await app.register(wsBearer, options.guard ?? {})
  await app.register(firstMessage, { timeoutMs: DEADLINE_MS, ...options.firstMessage })

  let handled = 0
  const received: string[] = []
  const welcomeAndEcho = (path: string) => (socket: WebSocket, request: FastifyRequest): void => {
    handled++
    socket.send(`Welcome ${request.identity!.subject}!`)
    socket.on('message', (data) => {
      received.push(`${path} ${String(data)}`)
      socket.send(`You wrote: ${String(data)}`)
    })
  }
  const route = (path: string, wsAuth: Record<string, unknown>): void => {
    app.get(path, { websocket: true, config: { wsAuth } }, welcomeAndEcho(path))
  }
  route('/fm', { firstMessage: true, refresh: true })
  route('/fm-only', { firstMessage: true })
  route('/ws', { refresh: true })
  route('/plain', {})
  route('/fm-admin', { firstMessage: true, refresh: true, authorize: (identity: { scopes: string[] }) => identity.scopes.includes('admin') })
  app.get('/fm-identity', { websocket: true, config: { wsAuth: { firstMessage: true } } }, (socket, request) => {
    handled++
    socket.send(JSON.stringify(request.identity))
  })

  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const jwt = (app as unknown as { jwt: { sign (payload: object, options: object): string } }).jwt
  return {
    app,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    sign: (sub, signOptions = {}) => jwt.sign(
      { sub, ...(signOptions.scope === undefined ? {} : { scope: signOptions.scope }) },
      { expiresIn: signOptions.expiresIn ?? 600, ...(signOptions.jti === undefined ? {} : { jti: signOptions.jti }) }
    ),
    get handled () { return handled },
    get received () { return received },
  }
}

export function authMessage (token: string): string {
  return JSON.stringify({ type: 'auth', token })
}

export function refreshMessage (token: string): string {
  return JSON.stringify({ type: 'auth.refresh', token })
}

/** Parses a protocol message the server sent. */
export function parsed (text: string): { type: string, expiresAt: number | null } {
  return JSON.parse(text) as { type: string, expiresAt: number | null }
}

/** A masked client text frame (RFC 6455 §5.2), built by hand so that many can go out in one TCP write. */
function textFrame (text: string): Buffer {
  const payload = Buffer.from(text, 'utf8')
  const length = payload.length
  const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10)
  header[0] = 0x81
  if (length < 126) {
    header[1] = 0x80 | length
  } else if (length < 65536) {
    header[1] = 0x80 | 126
    header.writeUInt16BE(length, 2)
  } else {
    header[1] = 0x80 | 127
    header.writeBigUInt64BE(BigInt(length), 2)
  }
  const mask = randomBytes(4)
  const masked = Buffer.alloc(length)
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i % 4]!
  return Buffer.concat([header, mask, masked])
}

/** Sends text messages as frames written to the TCP socket in a single write, so the server reads them in one chunk. */
export function sendInOneWrite (socket: WebSocket, texts: string[]): void {
  const tcp = (socket as unknown as { _socket: { write (data: Buffer): boolean } })._socket
  tcp.write(Buffer.concat(texts.map(textFrame)))
}

/** Opens `path` without credentials, sends the auth message, and expects `auth.ok` then the welcome. */
export async function authenticated (t: Test, fixture: Fixture, path: string, token: string): Promise<WebSocket> {
  const { socket } = await opened(fixture.url(path))
  socket.send(authMessage(token))
  const ok = parsed(await nextMessage(socket))
  t.equal(ok.type, 'auth.ok', 'answered auth.ok')
  t.equal(await nextMessage(socket), `Welcome ${claimsOf(token).sub}!`, 'then the app has the socket')
  return socket
}

/** A socket that authenticates by first message still gets in, and echoes: the server is still serving. */
export async function stillServes (t: Test, fixture: Fixture, path = '/fm'): Promise<void> {
  const socket = await authenticated(t, fixture, path, fixture.sign('probe'))
  socket.send('ping')
  t.equal(await nextMessage(socket), 'You wrote: ping', 'the server still serves')
  const done = closed(socket)
  socket.close(1000)
  await done
}

/** Closed with exactly this code and reason, with nothing from the app on the way. */
export async function closedWith (t: Test, socket: WebSocket, code: number, reason: string, name: string): Promise<void> {
  const result = await closed(socket)
  t.strictSame(result, { code, reason }, `${name}: ${code} ${reason}`)
  const leaked = await nextMessage(socket).catch(() => null)
  t.equal(leaked, null, `${name}: nothing was sent before the close`)
}

/** A promise to hold a verifier or a store at a chosen point. */
export function gate<T = void> (): { promise: Promise<T>, open (value: T): void } {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => { open = resolve })
  return { promise, open }
}
