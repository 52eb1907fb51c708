import type { DiscoveryDocument } from '@wsauth/core'
import type { CredentialSource } from './credential.js'
import type { BackoffOptions } from './retry.js'
import type { WebSocketConstructor } from './socket.js'
import type { TransportName } from './transports.js'

export interface Timers {
  setTimeout (callback: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

export const DEFAULT_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
}

export interface ConnectOptions {
  /** Called for every connection attempt and every in-band refresh. Required. */
  getToken: CredentialSource
  /** Where tickets come from, instead of the discovered ticket endpoint (which `getToken`'s token pays for). */
  getTicket?: CredentialSource
  /**
   * A WebSocket constructor that takes headers, like the ws package's: then the client prefers the `Authorization`
   * header. Default: the global `WebSocket` (a browser's), which can't.
   */
  WebSocket?: WebSocketConstructor
  /** Use this transport, and no other. `query` is used only when named here. */
  transport?: TransportName
  /** The application subprotocols to offer, in preference order. Default: the route's, from discovery. */
  protocols?: string[]
  /** Where the discovery document is (default `/.well-known/wsauth` on the socket's origin), or the document itself. */
  discovery?: string | URL | DiscoveryDocument
  /** How long the discovery document and the ticket and cookie endpoints may take to answer, in ms. Default 10 000. */
  requestTimeoutMs?: number
  backoff?: BackoffOptions
  /**
   * Close mode has no positive answer: a refused socket opens, then closes at once with a 44xx code. A socket there
   * counts as authenticated at the server's first message, or after this many ms without a close. Default 1000.
   */
  confirmMs?: number
  /** Renew a credential this long before it expires. Default: the server's `auth.expiring` notice, or 30 000. */
  renewBeforeMs?: number
  /** Messages held while not open. Default 100. */
  queueLimit?: number
  binaryType?: string
  /** For tests: the jitter's source (default `Math.random`), the clock (default `Date.now`), the timers. */
  random?: () => number
  now?: () => number
  timers?: Timers
}
