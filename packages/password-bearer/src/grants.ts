import type { FastifyRequest } from 'fastify'

/** What a grant handler gets: the request's parameters, the request, and the authenticated client (or `null`). */
export interface GrantContext {
  params: Readonly<Record<string, unknown>>
  request: FastifyRequest
  /** The authenticated client's id; `null` when client authentication is off. */
  clientId: string | null
}

/** Who signed in and the scopes granted: the plugin issues the tokens, in a new family. */
export interface GrantResult {
  subject: string
  scopes: string[]
}

/**
 * Decides one grant type of `POST /token`. Refuse with an `OAuthError` (answered as RFC 6749 §5.2 says), or a
 * `WsAuthError` for the outcome table's `rate_limited` (429) or `unavailable` (503); anything else thrown is a bug,
 * answered 500.
 */
export type GrantHandler = (context: GrantContext) => Promise<GrantResult>

/** The grant types the plugin answers itself; no handler may replace them. */
export const BUILT_IN_GRANTS: readonly string[] = ['password', 'refresh_token']

// RFC 6749 Appendix A.10: grant-type = grant-name / URI-reference, grant-name = 1*name-char. Extension grants
// (§4.5) are absolute URIs, such as urn:ietf:params:oauth:grant-type:jwt-bearer.
const GRANT_NAME = /^[A-Za-z0-9._-]+$/
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/

/** The grant types other plugins added. Closed once the server is ready: routes never change under live traffic. */
export class GrantRegistry {
  readonly #handlers = new Map<string, GrantHandler>()
  #closed = false

  add (grantType: string, handler: GrantHandler): void {
    const problem = this.#problem(grantType, handler)
    if (problem !== null) throw new Error(`@wsauth/password-bearer: addGrant: ${problem}`)
    this.#handlers.set(grantType, handler)
  }

  get (grantType: string): GrantHandler | undefined {
    return this.#handlers.get(grantType)
  }

  close (): void {
    this.#closed = true
  }

  #problem (grantType: unknown, handler: unknown): string | null {
    if (this.#closed) return 'grants are added before the server is ready'
    if (typeof grantType !== 'string' || !(GRANT_NAME.test(grantType) || ABSOLUTE_URI.test(grantType))) {
      return 'the grant type must be a grant name (letters, digits, "-", ".", "_") or an absolute URI'
    }
    if (BUILT_IN_GRANTS.includes(grantType)) return `"${grantType}" is built in and cannot be replaced`
    if (this.#handlers.has(grantType)) return `"${grantType}" was added already`
    if (typeof handler !== 'function') return 'the handler must be a function'
    return null
  }
}
