import { connect as netConnect } from 'node:net'
import type { Test } from 'tap'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { WsAuthOptions } from '@wsauth/ws-bearer'
import subprotocolToken, {
  TOKEN_PREFIXES, tokenSubprotocol, type SubprotocolFormat, type SubprotocolTokenOptions,
} from '@wsauth/subprotocol-token'
import {
  SECRET, build as buildApp, closed, echoesThenCloses, handshakeRequest, nextMessage, opened, type Fixture,
} from '../../../test/helpers/index.ts'

export { SECRET }
export const FORMATS: SubprotocolFormat[] = ['jupyter', 'kubernetes', 'wsauth']

/** What a route's handler saw of the handshake, sent as the socket's first message on `/seen`. */
export interface Seen {
  /** `request.headers['sec-websocket-protocol']`. */
  header: string | null
  /** Every `Sec-WebSocket-Protocol` line in `request.raw.rawHeaders`. */
  rawLines: string[]
  /** `socket.protocol`: what the 101 echoed. */
  protocol: string
  subject: string | null
  transport: string | null
}

export interface FixtureOptions {
  guard?: WsAuthOptions
  plugin?: SubprotocolTokenOptions
  /** Extra routes, registered after the plugin and before listen. */
  routes?: (app: FastifyInstance) => void
}

/**
 * The kit's app (`build` in test/helpers: @fastify/jwt, @fastify/websocket, the guard, `/ws` welcoming and echoing,
 * `/close-mode`) with the plugin (`protocols: ['echo.v1']` unless `options.plugin` says otherwise), and these
 * websocket routes, each sending the `Seen` JSON:
 * - `/seen`;
 * - `/multi`: declares `['chat.v2', 'echo.v1']`;
 * - `/none`: declares `[]`;
 * - `/open-seen`: out of the guard (`wsAuth: false`).
 * `handled` counts the runs of every handler: a rejected socket must never reach one.
 */
export async function build (t: Test, options: FixtureOptions = {}): Promise<Fixture> {
  let seenHandled = 0
  const sendSeen = (socket: WebSocket, request: FastifyRequest): void => {
    seenHandled++
    // injectWS builds a request without rawHeaders.
    const rawHeaders = (request.raw.rawHeaders as string[] | undefined) ?? []
    const seen: Seen = {
      header: request.headers['sec-websocket-protocol'] ?? null,
      rawLines: rawHeaders.filter((_, i) => i % 2 === 1 && rawHeaders[i - 1]!.toLowerCase() === 'sec-websocket-protocol'),
      protocol: socket.protocol,
      subject: request.identity?.subject ?? null,
      transport: request.identity?.transport ?? null,
    }
    socket.send(JSON.stringify(seen))
  }
  const fixture = await buildApp(t, {
    guard: options.guard ?? {},
    plugins: async (app) => { await app.register(subprotocolToken, options.plugin ?? { protocols: ['echo.v1'] }) },
    routes: (app) => {
      app.get('/seen', { websocket: true }, sendSeen)
      app.get('/multi', { websocket: true, config: { wsAuth: { protocols: ['chat.v2', 'echo.v1'] } } }, sendSeen)
      app.get('/none', { websocket: true, config: { wsAuth: { protocols: [] } } }, sendSeen)
      app.get('/open-seen', { websocket: true, config: { wsAuth: false } }, sendSeen)
      options.routes?.(app)
    },
  })
  return { ...fixture, get handled () { return fixture.handled + seenHandled } }
}

/** A token protocol put together by hand, so tests can send what `tokenSubprotocol` would refuse to build. */
export function rawTokenProtocol (format: SubprotocolFormat, encoded: string): string {
  return TOKEN_PREFIXES[format] + encoded
}

/** Opens `path` with `protocols`, reads the first message (a `Seen` on the routes that send one) and closes. */
export async function seenOver (url: string, protocols: string[], headers: Record<string, string> = {}): Promise<Seen> {
  const { socket } = await opened(url, { protocols, headers })
  const seen = JSON.parse(await nextMessage(socket)) as Seen
  const done = closed(socket)
  socket.close(1000)
  await done
  return seen
}

/** A good subprotocol handshake on `/ws` (wsauth format, `echo.v1`) still welcomes and echoes. */
export async function stillServes (t: Test, fixture: Fixture): Promise<void> {
  const token = fixture.sign({ sub: 'probe' })
  const { socket, protocol } = await opened(fixture.url(), { protocols: ['echo.v1', tokenSubprotocol(token, 'wsauth')] })
  t.equal(protocol, 'echo.v1', 'the server still echoes the application protocol')
  t.equal(await nextMessage(socket), 'Welcome probe!', 'the server still serves a good handshake')
  await echoesThenCloses(t, socket)
}

/** The `Sec-WebSocket-Protocol` lines of a raw response head. */
export function protocolLines (head: string): string[] {
  return head.split('\r\n').filter((line) => /^sec-websocket-protocol:/i.test(line))
}

/**
 * A handshake with exact header lines over a plain TCP socket, for what a WebSocket client would refuse to send or
 * hide. Resolves with the raw response head and then, for a refusal, its body; for a 101, the close frame the server
 * sends at once in close mode (`close: null` when it sent something else, or ended the connection first).
 */
export function rawExchange (port: number, path: string, headerLines: string[]): Promise<{
  status: number
  head: string
  body: string
  close: { code: number, reason: string } | null
}> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1')
    let data = Buffer.alloc(0)
    let head = ''
    let body = ''
    const finish = (close: { code: number, reason: string } | null): void => {
      socket.destroy()
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body, close })
    }
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      const end = data.indexOf('\r\n\r\n')
      if (end === -1) return
      head = data.subarray(0, end).toString('latin1')
      const rest = data.subarray(end + 4)
      if (!head.startsWith('HTTP/1.1 101 ')) {
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0)
        if (rest.length < length) return
        body = rest.subarray(0, length).toString('utf8')
        return finish(null)
      }
      // An unmasked server frame: FIN + opcode 8, a 7-bit length (a close payload is at most 125 bytes), the payload.
      if (rest.length < 2 || rest.length < 2 + (rest[1]! & 0x7f)) return
      if (rest[0] !== 0x88) return finish(null)
      const payload = rest.subarray(2, 2 + (rest[1]! & 0x7f))
      finish({ code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') })
    })
    socket.on('close', () => finish(null))
    socket.on('error', reject)
    socket.write(handshakeRequest(port, path, headerLines))
  })
}
