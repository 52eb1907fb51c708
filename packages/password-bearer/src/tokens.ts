import { randomUUID } from 'node:crypto'
import type { Clock, IssuedAccessToken, RefreshTokenFamily, RefreshTokenStore } from '@wsauth/core'
import { fromStore } from './errors.js'
import type { TokenResponse } from './options.js'
import { newFamilyId, newRefreshToken } from './refresh-token.js'

/** Who a family belongs to: fixed at login, kept by every rotation. */
export interface Grant {
  subject: string
  /** The scopes granted at login; each access token gets these or fewer. */
  scopes: string[]
  clientId: string | null
}

export interface JwtSigner {
  sign (payload: Record<string, unknown>, options: { expiresIn: number }): string | Promise<string>
}

export interface TokenIssuerOptions {
  jwt: JwtSigner
  store: RefreshTokenStore
  /** Seconds. */
  accessTokenTtl: number
  /** Seconds. */
  refreshTokenTtl: number
  /** Live access tokens a family remembers; an older one is denylisted before it is forgotten. */
  accessTokensPerFamily: number
  /** Denylists an access token until it expires and closes its sockets: the guard's `revokeToken`. */
  revokeAccessToken: (tokenId: string, expiresAt: number) => Promise<unknown>
  clock: Clock
}

/** The one place tokens are signed, families started and rotated, and families revoked: every grant comes here. */
export class TokenIssuer {
  readonly #options: TokenIssuerOptions

  constructor (options: TokenIssuerOptions) {
    this.#options = options
  }

  /** A new family, as a successful login starts. */
  async startFamily (grant: Grant, accessScopes: string[]): Promise<TokenResponse> {
    const now = this.#options.clock()
    const access = await this.#sign(grant, accessScopes, now)
    const refresh = newRefreshToken(newFamilyId())
    await fromStore(() => this.#options.store.create(refresh.familyId, {
      ...grant,
      tokenHash: refresh.hash,
      expiresAt: now + this.#options.refreshTokenTtl * 1000,
      accessTokens: [access.issued],
    }))
    return this.#response(access.token, refresh.token, accessScopes)
  }

  /**
   * The next pair of a family, as read by `find`: one compare-and-swap of its current token. `null` when another
   * request rotated or revoked the family since it was read: the presented token is spent.
   */
  async rotate (familyId: string, family: RefreshTokenFamily, accessScopes: string[]): Promise<TokenResponse | null> {
    const now = this.#options.clock()
    const access = await this.#sign(family, accessScopes, now)
    const live = family.accessTokens.filter((issued) => issued.expiresAt > now)
    live.push(access.issued)
    const dropped = live.length - this.#options.accessTokensPerFamily
    // Denylisted before they are forgotten: if the denylist fails, the family still holds them. Only a rotation
    // changes the list, and only from this hash, so a won swap below stores exactly the list computed here.
    if (dropped > 0) await Promise.all(live.slice(0, dropped).map(({ tokenId, expiresAt }) => this.#options.revokeAccessToken(tokenId, expiresAt)))
    const refresh = newRefreshToken(familyId)
    const rotated = await fromStore(() => this.#options.store.rotate(familyId, family.tokenHash, {
      tokenHash: refresh.hash,
      expiresAt: now + this.#options.refreshTokenTtl * 1000,
      accessTokens: live.slice(Math.max(0, dropped)),
    }))
    return rotated ? this.#response(access.token, refresh.token, accessScopes) : null
  }

  /**
   * Ends a family: its live access tokens are denylisted and their sockets closed (4401), and its record deleted.
   * `false` when the family was unknown. The tokens go first: if the denylist fails, the record still holds them, and
   * a retry finds them (deleted first, they would be forgotten and stay good until they expire).
   */
  async revokeFamily (familyId: string): Promise<boolean> {
    const family = await fromStore(() => this.#options.store.find(familyId))
    if (family === null) return false
    const revoked = new Set(family.accessTokens.map(({ tokenId }) => tokenId))
    await this.#revokeAccessTokens(family.accessTokens)
    const deleted = await fromStore(() => this.#options.store.delete(familyId))
    if (deleted === null) return false
    // A rotation between the read and the delete added a token.
    await this.#revokeAccessTokens(deleted.accessTokens.filter(({ tokenId }) => !revoked.has(tokenId)))
    return true
  }

  async #revokeAccessTokens (issued: IssuedAccessToken[]): Promise<void> {
    const now = this.#options.clock()
    await Promise.all(issued
      .filter(({ expiresAt }) => expiresAt > now)
      .map(({ tokenId, expiresAt }) => this.#options.revokeAccessToken(tokenId, expiresAt)))
  }

  async #sign (grant: Grant, accessScopes: string[], now: number): Promise<{ token: string, issued: IssuedAccessToken }> {
    const { accessTokenTtl } = this.#options
    const iat = Math.floor(now / 1000)
    const tokenId = randomUUID()
    const claims: Record<string, unknown> = { sub: grant.subject, scope: accessScopes.join(' '), jti: tokenId, iat }
    // RFC 9068 §2.2: the client the token was issued to.
    if (grant.clientId !== null) claims.client_id = grant.clientId
    // A number: @fastify/jwt reads a number as seconds and a string as milliseconds. With `iat` given, exp = iat + ttl.
    const token = await this.#options.jwt.sign(claims, { expiresIn: accessTokenTtl })
    return { token, issued: { tokenId, expiresAt: (iat + accessTokenTtl) * 1000 } }
  }

  #response (accessToken: string, refreshToken: string, accessScopes: string[]): TokenResponse {
    const { accessTokenTtl } = this.#options
    const response: TokenResponse = { access_token: accessToken, token_type: 'Bearer', expires_in: accessTokenTtl, refresh_token: refreshToken }
    if (accessScopes.length > 0) response.scope = accessScopes.join(' ')
    return response
  }
}
