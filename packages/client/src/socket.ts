import { closeCodeOfRefusal, retryAfterHeaderMs, retryAfterReasonMs } from './close-codes.js'

/** The part of a WebSocket the client uses: the browser's, or the ws package's. */
export interface ClientSocket {
  readonly readyState: number
  readonly protocol: string
  binaryType: string
  send (data: any): void
  close (code?: number, reason?: string): void
  addEventListener (type: string, listener: (event: any) => void): void
}

export type WebSocketConstructor = new (url: string, protocols: string[], options?: { headers: Record<string, string> }) => ClientSocket

// The ws package's handshake response when the server answered over HTTP instead of upgrading (Node, HTTP mode).
interface Refusal { statusCode?: number, headers: Record<string, string | string[] | undefined> }
interface NodeSocket extends ClientSocket {
  on? (event: 'unexpected-response', listener: (request: unknown, response: Refusal) => void): unknown
  terminate (): void
}

/** How a socket ended: its close code (or the one an HTTP refusal stands for), the server's reason, its retry hint. */
export interface SocketEnd {
  code: number
  reason: string
  retryAfterMs: number
  /** The socket opened before it closed. */
  opened: boolean
}

export interface SocketListeners {
  open (): void
  message (data: unknown): void
  close (end: SocketEnd): void
}

/**
 * Listens to a socket: an HTTP refusal (the ws package's `unexpected-response`) reads as the close code it stands
 * for, with its `Retry-After`; a 4429's hint is read from the close reason.
 */
export function watchSocket (socket: ClientSocket, listeners: SocketListeners): void {
  let opened = false
  let refusal: SocketEnd | null = null
  const node = socket as NodeSocket
  node.on?.('unexpected-response', (_request, response) => {
    const header = (name: string): string => String(response.headers[name] ?? '')
    refusal = {
      code: closeCodeOfRefusal(response.statusCode ?? 0, /invalid_token/.test(header('www-authenticate'))),
      reason: '',
      retryAfterMs: retryAfterHeaderMs(header('retry-after')),
      opened: false,
    }
    node.terminate()
  })
  // A failed socket also closes; the close handles it. The listener keeps the ws package from throwing the error.
  socket.addEventListener('error', () => {})
  socket.addEventListener('open', () => {
    opened = true
    listeners.open()
  })
  socket.addEventListener('message', (event: { data: unknown }) => listeners.message(event.data))
  socket.addEventListener('close', ({ code, reason }: { code: number, reason: string }) => {
    listeners.close(refusal ?? { code, reason, retryAfterMs: code === 4429 ? retryAfterReasonMs(reason) : 0, opened })
  })
}
