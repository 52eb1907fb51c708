import { connect as netConnect } from 'node:net'
import type { IncomingHttpHeaders } from 'node:http'
import type { Test } from 'tap'
import WebSocket, { type ClientOptions } from 'ws'

/** The server answered the handshake over HTTP instead of upgrading. */
export interface Refused { kind: 'refused', status: number, headers: IncomingHttpHeaders, body: string }
/** The server upgraded; `socket` is open. */
export interface Opened { kind: 'opened', socket: WebSocket, protocol: string, headers: IncomingHttpHeaders }

// Messages each socket opened by `connect` received and `nextMessage` has not returned yet. A server that sends the
// moment it upgrades (a welcome) has its message emitted before an `await connect(...)` continuation runs, so a
// listener attached only then would miss it.
const inboxes = new WeakMap<WebSocket, string[]>()

/** Opens a real WebSocket over TCP and reports either the HTTP refusal or the open socket. */
export function connect (url: string, options: ClientOptions & { protocols?: string | string[] } = {}): Promise<Refused | Opened> {
  const { protocols, ...clientOptions } = options
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, clientOptions)
    const inbox: string[] = []
    inboxes.set(socket, inbox)
    socket.on('message', (data) => { inbox.push(String(data)) })
    let headers: IncomingHttpHeaders = {}
    socket.once('upgrade', (response) => { headers = response.headers })
    socket.once('unexpected-response', (_request, response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => {
        socket.terminate()
        resolve({ kind: 'refused', status: response.statusCode ?? 0, headers: response.headers, body })
      })
    })
    socket.once('open', () => resolve({ kind: 'opened', socket, protocol: socket.protocol, headers }))
    socket.once('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error)
    })
  })
}

/**
 * The next text message on a socket. For a socket opened by `connect`, messages come in order from the moment it
 * opened: one that arrived before this call is returned at once.
 */
export function nextMessage (socket: WebSocket): Promise<string> {
  const inbox = inboxes.get(socket)
  if (inbox !== undefined && inbox.length > 0) return Promise.resolve(inbox.shift()!)
  if (socket.readyState === WebSocket.CLOSED) return Promise.reject(new Error('closed before a message'))
  return new Promise((resolve, reject) => {
    // The inbox's listener was added first, so it has already queued this message: take it back out.
    const onMessage = (data: WebSocket.RawData): void => { cleanup(); inbox?.shift(); resolve(String(data)) }
    const onClose = (code: number): void => { cleanup(); reject(new Error(`closed with ${code} before a message`)) }
    const cleanup = (): void => { socket.off('message', onMessage); socket.off('close', onClose) }
    socket.on('message', onMessage)
    socket.on('close', onClose)
  })
}

/** Resolves with the close code and reason once the socket closes. */
export function closed (socket: WebSocket): Promise<{ code: number, reason: string }> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.reject(new Error('already closed'))
  return new Promise((resolve) => {
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) }))
  })
}

/** Opens, expecting a refusal; fails the promise if the server upgraded. */
export async function refused (url: string, options?: ClientOptions & { protocols?: string | string[] }): Promise<Refused> {
  const result = await connect(url, options)
  if (result.kind === 'opened') {
    result.socket.terminate()
    throw new Error('expected the handshake to be refused, but it was upgraded')
  }
  return result
}

/** Opens, expecting an upgrade; fails the promise if the server refused. */
export async function opened (url: string, options?: ClientOptions & { protocols?: string | string[] }): Promise<Opened> {
  const result = await connect(url, options)
  if (result.kind === 'refused') throw new Error(`expected an upgrade, got ${result.status} ${result.body}`)
  return result
}

/** The bytes of a WebSocket handshake request with exactly these extra header lines (`GET` unless `method` says). */
export function handshakeRequest (port: number, path: string, headerLines: string[], method = 'GET'): string {
  return [
    `${method} ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ...headerLines,
    '', '',
  ].join('\r\n')
}

/**
 * Sends a handshake with exact header lines over a plain TCP socket and returns the raw response head, for
 * what a WebSocket client would hide (duplicate headers, the exact 101 bytes).
 */
export function rawHandshake (port: number, path: string, headerLines: string[], method = 'GET'): Promise<{ status: number, head: string }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1')
    let data = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      data += chunk
      const end = data.indexOf('\r\n\r\n')
      if (end !== -1) {
        socket.destroy()
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), head: data.slice(0, end) })
      }
    })
    socket.on('error', reject)
    socket.write(handshakeRequest(port, path, headerLines, method))
  })
}

/** A served socket echoes `ping` as `You wrote: ping`, then closes cleanly: the end of every "still serves" probe. */
export async function echoesThenCloses (t: Test, socket: WebSocket): Promise<void> {
  socket.send('ping')
  t.equal(await nextMessage(socket), 'You wrote: ping')
  const done = closed(socket)
  socket.close(1000)
  await done
}

// FIN + text opcode, payload length 2 without the mask bit, "hi": every client-to-server frame must be masked.
const UNMASKED_FRAME = Buffer.from([0x81, 0x02, 0x68, 0x69])

/** Upgrades on `path` with no credential, sends an unmasked frame once the 101 is in, and resolves when the server ends the socket. */
export function sendUnmaskedFrame (port: number, path: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1')
    let head = ''
    let status = 0
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      if (status !== 0) return
      head += chunk
      if (!head.includes('\r\n\r\n')) return
      status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
      socket.write(UNMASKED_FRAME)
    })
    socket.on('close', () => resolve({ status }))
    socket.on('error', reject)
    socket.write(handshakeRequest(port, path, []))
  })
}
