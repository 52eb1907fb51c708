/**
 * The discovery document the guard serves (`GET /.well-known/wsauth`): per guarded websocket route, what it accepts.
 * `discovery.schema.json` (exported as `@wsauth/core/discovery.schema.json`) describes exactly this. Clients ignore
 * keys they do not know, so later versions may add some. Nothing secret belongs in it: no origins, no keys, no users.
 */
export interface DiscoveryDocument {
  wsauth: 1
  /** Only the endpoints that are registered; paths relative to the server's origin. */
  endpoints: DiscoveryEndpoints
  /** Present only when @wsauth/first-message is registered. */
  inBand?: DiscoveryInBand
  /** One entry per row of @wsauth/core's outcome table. */
  closeCodes: DiscoveryCloseCode[]
  /** Guarded websocket routes; those opted out (`config: { wsAuth: false }`) are not listed. */
  routes: DiscoveryRoute[]
}

export interface DiscoveryEndpoints {
  /** @wsauth/password-bearer's `POST /token`. */
  token?: string
  /** @wsauth/password-bearer's `POST /revoke`. */
  revoke?: string
  /** @wsauth/ticket's `POST /ws-ticket`. */
  ticket?: string
  /** @wsauth/cookie-iframe's prefix. */
  cookie?: string
}

export interface DiscoveryInBand {
  /** How long an upgraded socket may take to send its auth message, in milliseconds. */
  timeoutMs: number
  /** The largest message read before `auth.ok`, in bytes. */
  maxPayload: number
  /** How long before expiry `auth.expiring` is sent, in milliseconds; 0 for never. */
  expiringNoticeMs: number
  messages: DiscoveryMessageNames
}

/**
 * The in-band protocol's vocabulary (@wsauth/first-message's `MessageNames`): which key holds a message's type, which
 * holds the token, and the type values.
 */
export interface DiscoveryMessageNames {
  /** Default `type`. */
  typeKey: string
  /** Default `token`. */
  tokenKey: string
  /** Client → server, the first message: default `auth`. */
  auth: string
  /** Client → server, on a live socket: default `auth.refresh`. */
  refresh: string
  /** Server → client, after a successful auth or refresh: default `auth.ok`. */
  ok: string
  /** Server → client, before the credential expires: default `auth.expiring`. */
  expiring: string
}

export interface DiscoveryCloseCode {
  outcome: string
  code: number
  reason: string
}

export interface DiscoveryRoute {
  /** The Fastify URL pattern (`/ws/:room` stays as is). */
  path: string
  mode: 'http' | 'close'
  /** The route's application subprotocols, in the server's preference order. */
  protocols: string[]
  /** Whether the route takes the credential from the first message when the handshake carries none. */
  firstMessage: boolean
  /** Whether the route accepts `auth.refresh` (and sends `auth.expiring`). */
  refresh: boolean
  /** A transport is listed only if the route accepts it. */
  transports: DiscoveryTransports
}

export interface DiscoveryTransports {
  bearer?: Record<string, never>
  basic?: { tokenUsername: string, password: boolean }
  query?: { param: string }
  subprotocol?: { formats: string[] }
  cookie?: { endpoint: string }
  ticket?: { endpoint: string, param: string, subprotocolPrefix: string }
}
