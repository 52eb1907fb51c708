import type { FastifyRequest } from 'fastify'
import type { Credential, DenyList, Identity, Transport } from '@wsauth/core'

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
  /** Revoked token ids, checked at every handshake. Default: an in-memory list. */
  denyList?: DenyList
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
}
