import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { Clock, Credential, DenyList, Identity, Transport, WsAuthError } from '@wsauth/core'

/** What a verifier returns: an identity before the guard fills in the transport and defaults. */
export interface IdentityInit {
  subject: string
  scopes?: string[]
  claims?: Record<string, unknown>
  /** Epoch milliseconds; `null` or absent when the credential never expires. */
  expiresAt?: number | null
  tokenId?: string | null
}

/** Verifies an opaque token: resolve an identity, or `null` when the token is not valid. */
export type TokenVerifier = (token: string, request: FastifyRequest) => Promise<IdentityInit | null> | IdentityInit | null

/** Verifies a real username and password sent by HTTP Basic: resolve an identity, or `null` when wrong. */
export type PasswordVerifier = (username: string, password: string, request: FastifyRequest) => Promise<IdentityInit | null>

/** Decides whether an authenticated identity may use a route: `false` answers 403 / 4403. */
export type Authorizer = (identity: Identity, request: FastifyRequest) => boolean | Promise<boolean>

/**
 * Reads one transport's credential from a request. Returns `null` when the request carries none, and throws a
 * `WsAuthError('malformed')` when it carries a bad one.
 */
export interface Extractor {
  transport: Transport
  /** Lower runs first: Authorization 100, subprotocol 200, cookie 300, query 400. */
  precedence: number
  /** A credential the browser sends by itself (cookie, Basic): an Origin allowlist is required at startup. */
  ambient?: boolean
  /** Reject requests with no `Origin` header when this transport carries the credential. */
  requireOrigin?: boolean
  extract (request: FastifyRequest): Credential | null
}

export type Mode = 'http' | 'close'

export interface BasicOptions {
  /** Username that marks the password as a token (`token:<access_token>`). Default `token`. */
  tokenUsername?: string
  /** Checks a real username and password; without it only `token:<token>` is accepted. */
  verifyPassword?: PasswordVerifier
}

export interface WsAuthOptions {
  /** Verifies opaque tokens. Without it, tokens are JWTs verified by @fastify/jwt. */
  verify?: TokenVerifier
  /** The @fastify/jwt namespace to verify with, when the app registered it with one. */
  jwtNamespace?: string
  /** Accept `Authorization: Basic` (and so URI user info). Ambient: needs `origins`. Off by default. */
  basic?: boolean | BasicOptions
  /** Accept a token in the query string under this name (`true` means `token`). Off by default. */
  query?: boolean | { name?: string }
  /** Exact allowlist of `Origin` values; a request with another Origin is answered 403 / 4403. */
  origins?: string[]
  /** `http` (default) answers before the upgrade; `close` upgrades and closes with a 44xx code. */
  mode?: Mode
  /** Realm in `WWW-Authenticate`. Default `wsauth`. */
  realm?: string
  /**
   * HTTP status of a rejected token (invalid, expired, revoked; wrong password): 401 (default), or 403 as Jupyter
   * JEP 121 clients expect. Close codes stay 4401, so a wsauth client still refreshes its token on them.
   */
  invalidTokenStatus?: 401 | 403
  /** Longest credential accepted, in characters. Default 4096. */
  maxCredentialLength?: number
  /** Default authorization for every guarded route. */
  authorize?: Authorizer
  /** Revoked token ids, checked at every handshake, first message and refresh. Default: an in-memory list. */
  denyList?: DenyList
  /**
   * The guard's clock (epoch milliseconds) for expiry: at verification, on live sockets and for `auth.expiring`. For
   * tests; @fastify/jwt checks `exp` against its own clock. Default `Date.now`.
   */
  clock?: Clock
}

/** Per-route settings, under `config.wsAuth`; `false` opts the route out of the guard. */
export interface WsAuthRouteOptions {
  mode?: Mode
  authorize?: Authorizer
  /**
   * The application subprotocols this route speaks. With @wsauth/subprotocol-token registered, the 101 echoes the
   * first of the client's offers that is in this list (and never a token protocol); without it, ws's own choice applies.
   */
  protocols?: string[]
  /**
   * Accept a handshake that carries no credential, and take the credential from the socket's first message instead
   * (needs @wsauth/first-message). A handshake that does carry one is verified as usual.
   */
  firstMessage?: boolean
  /** Let clients refresh their credential in band on the live socket (needs @wsauth/first-message). */
  refresh?: boolean
}

/**
 * A live socket's credential as the guard tracks it, handed to the in-band protocol for the socket's life. The guard
 * does the verifying, closing and reporting; the protocol only speaks the messages.
 */
export interface LiveSession {
  /** The socket's identity, as of its last refresh. */
  readonly identity: Identity
  /** Whether the route lets the client refresh in band. */
  readonly refreshable: boolean
  /**
   * Verifies a token sent on the live socket as a handshake would (denylist and `authorize` included), requires the
   * same subject, and moves the socket to the new token's expiry and id. Resolves the new identity, or `null` when the
   * socket was closed instead: on a failure the guard closes it with the outcome's code (a new subject: 4403).
   */
  refresh (token: string): Promise<Identity | null>
  /**
   * Closes the socket for a refresh message the protocol could not read (say, no token): logged and reported as a
   * refused refresh, closed with the outcome's code.
   */
  reject (error: WsAuthError): void
}

/**
 * What @wsauth/first-message plugs into the guard (`registerInBandProtocol`): the messages of first-message
 * authentication and in-band refresh, on routes with `firstMessage` or `refresh`.
 */
export interface InBandProtocol {
  /** How long before a refreshable socket's token expires `expiring` is called, in milliseconds (0: never). */
  readonly expiringNoticeMs: number
  /**
   * A socket upgraded without a credential on a `firstMessage` route: resolves the credential its first message
   * carries, or rejects with a `WsAuthError` (timeout, another message). Whatever else it receives is held back until
   * the function `open` returns has run. It may pause the socket once the credential is in, to bound what it holds:
   * that function resumes it, and so does the guard when it closes the socket instead.
   */
  awaitCredential (socket: WebSocket): Promise<Credential>
  /**
   * An authenticated socket on a `firstMessage` or `refresh` route, tracked and about to be handed to the app's
   * handler. Returns the function the guard calls right after that handler has run.
   */
  open (socket: WebSocket, session: LiveSession): () => void
  /** A refreshable socket's token expires in `expiringNoticeMs` or less. */
  expiring (socket: WebSocket, identity: Identity): void
}
