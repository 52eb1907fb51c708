import type { FastifyRequest } from 'fastify'
import type { Clock, FailureCounter, RefreshTokenStore } from '@wsauth/core'
import type { IdentityInit } from '@wsauth/ws-bearer'
import type { ClientConfig } from './clients.js'
import type { GrantHandler } from './grants.js'
import type { ScryptParams } from './password.js'
import type { UserStore } from './users.js'

export interface ThrottleOptions {
  /** Failed logins per username. Default: 5 per 15 minutes, counted in the guard's stores (in memory, or on Redis). */
  username?: FailureCounter
  /** Failed logins per client IP (`request.ip`: set Fastify's `trustProxy` behind a proxy). Default: 20 per 15 minutes. */
  ip?: FailureCounter
  /** Failed refreshes (a malformed, unknown, expired or spent refresh token) per client IP. Default: 20 per 15 minutes. */
  refreshIp?: FailureCounter
  /** Failed refreshes per confidential client (one with a secret), when `clients` is set. Default: 100 per 15 minutes. */
  refreshClient?: FailureCounter
}

export interface PasswordBearerOptions {
  users: UserStore
  /** When set, every request must authenticate one of these clients. Off by default. */
  clients?: ClientConfig[]
  /** Access token lifetime in seconds. Default 900. */
  accessTokenTtl?: number
  /** Refresh token lifetime in seconds, renewed at each rotation. Default 14 days. */
  refreshTokenTtl?: number
  /**
   * Live access tokens a refresh-token family remembers for revocation; an older one is revoked (denylisted, its
   * sockets closed) when a newer one pushes it out. Default 16.
   */
  accessTokensPerFamily?: number
  /** Refresh-token families. Default: the guard's stores (`fastify.wsAuth.stores.refreshTokens`). */
  refreshTokens?: RefreshTokenStore
  throttle?: ThrottleOptions
  /** Default `/token`. */
  tokenPath?: string
  /** Default `/revoke`. */
  revokePath?: string
  /** Largest request body on these routes, in bytes. Default 16 KiB. */
  bodyLimit?: number
  /** Realm of the `Basic` challenge sent with `invalid_client`. Default `wsauth`. */
  realm?: string
  /** scrypt parameters of the dummy hash that unknown users are checked against: the user store's. Default: the defaults. */
  scrypt?: ScryptParams
  /** The @fastify/jwt namespace to sign and verify with, when the app registered it with one. */
  jwtNamespace?: string
  /**
   * The issuer's clock (epoch milliseconds): tokens' `iat` and `exp`, refresh-token expiry. Give it the guard's clock
   * when a test moves time, so that the tokens issued and the sockets they open age alike. Default `Date.now`.
   */
  clock?: Clock
}

/** A successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  /** Seconds. */
  expires_in: number
  refresh_token: string
  /** The granted scopes, space-separated; absent when none were granted. */
  scope?: string
}

/** The plugin's decorator: `fastify.passwordBearer`. */
export interface PasswordBearer {
  /**
   * Issues an access token and a refresh token in a new family, as a successful password grant does. The subject
   * should be a user of the store: refreshing checks the user again (unknown or disabled ends the family).
   */
  issueTokens (subject: string, scopes: string[], options?: { clientId?: string }): Promise<TokenResponse>
  /**
   * Checks a username and password against the store exactly as the password grant does (same throttle, same cost
   * for unknown users): the guard's `basic.verifyPassword`. The identity expires `accessTokenTtl` seconds from now, as
   * an access token would. `null` when wrong; throws a `rate_limited` WsAuthError (429 / 4429) when throttled.
   */
  authenticateUser (username: string, password: string, request: FastifyRequest): Promise<IdentityInit | null>
  /**
   * Adds a grant type to `POST /token`, before the server is ready. The handler says who signed in and with which
   * scopes; the plugin issues the tokens in a new family, as for a password grant. The built-in `password` and
   * `refresh_token` cannot be replaced, and a grant type is added once.
   */
  addGrant (grantType: string, handler: GrantHandler): void
  /** Revokes a refresh token's family and every access token issued in it, closing their sockets. `false`: unknown token. */
  revokeFamilyOf (refreshToken: string): Promise<boolean>
}
