import type { FastifyRequest } from 'fastify'
import type { Clock, FailureCounter, RefreshTokenFamily, RefreshTokenStore } from '@wsauth/core'
import { OAuthError, fromStore } from './errors.js'
import type { TokenResponse } from './options.js'
import { requiredParam, scopeParam, type Params } from './params.js'
import { parseRefreshToken } from './refresh-token.js'
import { isSubset } from './scope.js'
import { countAttempt, forgiveAttempt, type Counted } from './throttle.js'
import type { TokenIssuer } from './tokens.js'
import type { UserStore } from './users.js'

export interface RefreshGrantOptions {
  users: UserStore
  store: RefreshTokenStore
  tokens: TokenIssuer
  /** Failed refreshes per client IP. */
  ipFailures: FailureCounter
  /** Failed refreshes per confidential client; `null` when client authentication is off. */
  clientFailures: FailureCounter | null
  /** Whether a client authenticates with a secret. A public client's id is no secret: anyone could spend its count. */
  isConfidential: (clientId: string) => boolean
  clock: Clock
}

function invalidRefreshToken (): OAuthError {
  return new OAuthError('invalid_grant', 'invalid refresh token')
}

/**
 * The refresh grant (RFC 6749 §6): one family record read, one compare-and-swap written, whatever the number of
 * rotations before. Failed attempts (a malformed, unknown, expired or spent token, or another client's) are throttled
 * like failed logins.
 */
export class RefreshGrant {
  readonly #options: RefreshGrantOptions

  constructor (options: RefreshGrantOptions) {
    this.#options = options
  }

  async grant (request: FastifyRequest, params: Params, clientId: string | null): Promise<TokenResponse> {
    const { users, tokens } = this.#options
    const presented = requiredParam(params, 'refresh_token')
    const requested = scopeParam(params)
    const counted = this.#counted(request.ip, clientId)
    await countAttempt(counted, 'too many failed refresh attempts')
    const { familyId, family } = await this.#currentFamily(presented, clientId)
    // The client holds its family's current token: whatever happens next, this was no guess.
    await forgiveAttempt(counted)
    // Checked before the token is spent, so a client's mistake does not burn it.
    if (requested !== undefined && !isSubset(requested, family.scopes)) throw new OAuthError('invalid_scope', 'scope not granted')
    const user = await fromStore(() => users.findByUsername(family.subject))
    if (user === null || user.disabled === true) {
      await tokens.revokeFamily(familyId)
      throw invalidRefreshToken()
    }
    // Scopes the user has lost since login are not granted again.
    const userScopes = user.scopes ?? []
    const accessScopes = (requested ?? family.scopes).filter((scope) => userScopes.includes(scope))
    const response = await tokens.rotate(familyId, family, accessScopes)
    if (response !== null) return response
    // Another request spent this token (or ended the family) since it was read: a second use, as below.
    await tokens.revokeFamily(familyId)
    throw invalidRefreshToken()
  }

  /** The family whose current token was presented, issued to this client; anything else is `invalid_grant`. */
  async #currentFamily (presented: string, clientId: string | null): Promise<{ familyId: string, family: RefreshTokenFamily }> {
    const token = parseRefreshToken(presented)
    if (token === null) throw invalidRefreshToken()
    const family = await fromStore(() => this.#options.store.find(token.familyId))
    if (family === null || family.expiresAt <= this.#options.clock()) throw invalidRefreshToken()
    // A token of the family that is not its current one was spent and presented again: it leaked, or the client did.
    // The server cannot tell the thief from the owner, so the whole family is ended.
    if (token.hash !== family.tokenHash) {
      await this.#options.tokens.revokeFamily(token.familyId)
      throw invalidRefreshToken()
    }
    if (family.clientId !== clientId) throw invalidRefreshToken()
    return { familyId: token.familyId, family }
  }

  #counted (ip: string, clientId: string | null): Counted[] {
    const { ipFailures, clientFailures, isConfidential } = this.#options
    const counted = [{ counter: ipFailures, key: `ip:${ip}` }]
    if (clientFailures !== null && clientId !== null && isConfidential(clientId)) counted.push({ counter: clientFailures, key: `client:${clientId}` })
    return counted
  }
}
