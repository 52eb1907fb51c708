/**
 * The one table that decides how every authentication outcome is answered: as an HTTP response before the
 * upgrade, or as a close code after it. Every package answers through here.
 */
export type Outcome =
  | 'missing'
  | 'malformed'
  | 'invalid'
  | 'forbidden'
  | 'rate_limited'
  | 'timeout'
  | 'expired'
  | 'revoked'
  | 'withdrawn'
  | 'unavailable'
  | 'internal'

export interface OutcomeRule {
  /** HTTP status before the upgrade; `null` when the outcome only happens on an open socket (then: 401). */
  status: number | null
  /** RFC 6750 `error` value, used in `WWW-Authenticate` and in JSON bodies. */
  error: string
  /** Close code after the upgrade (close mode, or a live socket). */
  closeCode: number
  /** Short fixed close reason: never a token, never a stack. */
  reason: string
}

export const OUTCOMES: Readonly<Record<Outcome, Readonly<OutcomeRule>>> = Object.freeze({
  missing: { status: 401, error: 'unauthorized', closeCode: 4401, reason: 'unauthorized' },
  malformed: { status: 400, error: 'invalid_request', closeCode: 4400, reason: 'bad request' },
  invalid: { status: 401, error: 'invalid_token', closeCode: 4401, reason: 'invalid token' },
  forbidden: { status: 403, error: 'forbidden', closeCode: 4403, reason: 'forbidden' },
  rate_limited: { status: 429, error: 'too_many_requests', closeCode: 4429, reason: 'too many requests' },
  timeout: { status: null, error: 'timeout', closeCode: 4408, reason: 'authentication timeout' },
  expired: { status: 401, error: 'invalid_token', closeCode: 4401, reason: 'token expired' },
  revoked: { status: 401, error: 'invalid_token', closeCode: 4401, reason: 'token revoked' },
  withdrawn: { status: 403, error: 'forbidden', closeCode: 4403, reason: 'access withdrawn' },
  unavailable: { status: 503, error: 'temporarily_unavailable', closeCode: 1013, reason: 'try again later' },
  internal: { status: 500, error: 'server_error', closeCode: 1011, reason: 'internal error' },
})

/** Error codes follow `ERR_WSAUTH_<OUTCOME>`, so callers can switch on `code` without `instanceof`. */
export type WsAuthErrorCode = `ERR_WSAUTH_${Uppercase<Outcome>}`

export interface WsAuthErrorOptions {
  /** Seconds until the client may retry (`rate_limited`; `unavailable`, where it defaults to `UNAVAILABLE_RETRY_AFTER`). */
  retryAfter?: number
  cause?: unknown
}

// A registry symbol, so an error from a second copy of this package is still recognised (and never becomes a 500).
const kWsAuthError = Symbol.for('wsauth.error')

/** The one error type: carries the outcome that decides the answer. Its message is safe to show. */
export class WsAuthError extends Error {
  readonly outcome: Outcome
  readonly code: WsAuthErrorCode
  readonly retryAfter: number | undefined

  constructor (outcome: Outcome, message: string = OUTCOMES[outcome].reason, options: WsAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'WsAuthError'
    this.outcome = outcome
    this.code = `ERR_WSAUTH_${outcome.toUpperCase() as Uppercase<Outcome>}`
    this.retryAfter = options.retryAfter
  }

  get [kWsAuthError] (): true {
    return true
  }
}

export function isWsAuthError (value: unknown): value is WsAuthError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kWsAuthError] === true
}

/** Any error that is not a WsAuthError is a bug: it is answered as `internal`, never with its message. */
export function toWsAuthError (value: unknown): WsAuthError {
  return isWsAuthError(value) ? value : new WsAuthError('internal', undefined, { cause: value })
}

export interface ChallengeOptions {
  /** The realm in `WWW-Authenticate`. */
  realm: string
  /** Add a `Basic` challenge (needed for browsers to send URI user info). */
  basic?: boolean
  /**
   * The status of a rejected token (the `invalid_token` rows): 401 as RFC 6750 says (default), or 403, which Jupyter
   * JEP 121 clients require. The challenge, the body and the close codes stay the same.
   */
  invalidTokenStatus?: 401 | 403
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[]>
  body: { error: string, error_description: string }
}

function quote (value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`
}

/** The RFC 7617 challenge: `Basic realm="…", charset="UTF-8"`. */
export function basicChallenge (realm: string): string {
  return `Basic realm=${quote(realm)}, charset="UTF-8"`
}

/** The HTTP response for an outcome answered before the upgrade. */
export function httpAnswer (error: WsAuthError, challenge: ChallengeOptions): HttpAnswer {
  // An outcome that only exists on a live socket is answered as an invalid token if it ever happens before the upgrade.
  const rule = OUTCOMES[error.outcome].status === null ? OUTCOMES.invalid : OUTCOMES[error.outcome]
  // The challenge follows the table's status; the JEP 121 preset changes only the status line.
  const tableStatus = rule.status!
  const status = rule.error === 'invalid_token' && challenge.invalidTokenStatus === 403 ? 403 : tableStatus
  const headers: Record<string, string | string[]> = {}
  if (tableStatus === 401 || tableStatus === 400) {
    const realm = `realm=${quote(challenge.realm)}`
    const bearer = tableStatus === 401 && error.outcome === 'missing'
      ? `Bearer ${realm}`
      : `Bearer ${realm}, error="${tableStatus === 400 ? 'invalid_request' : 'invalid_token'}"`
    headers['www-authenticate'] = challenge.basic && tableStatus === 401
      ? [bearer, basicChallenge(challenge.realm)]
      : bearer
  }
  const retryAfter = retryAfterSeconds(error)
  if (status === 429 && retryAfter !== null) headers['retry-after'] = String(retryAfter)
  // A store that is down: clients are told when to come back rather than hammering it (RFC 9110 §15.6.4).
  if (status === 503) headers['retry-after'] = String(retryAfter ?? UNAVAILABLE_RETRY_AFTER)
  // Server-side failures get the fixed reason: their messages may carry a store's or a library's words.
  const description = status >= 500 || rule !== OUTCOMES[error.outcome] ? rule.reason : error.message
  return { status, headers, body: { error: rule.error, error_description: description } }
}

/** The `Retry-After` of a 503 whose error names no delay, in seconds: about how long a store takes to come back. */
export const UNAVAILABLE_RETRY_AFTER = 5

/** Retry-After is delay-seconds (a positive integer here): a NaN or an infinite delay is left out, not sent as text. */
function retryAfterSeconds (error: WsAuthError): number | null {
  return error.retryAfter !== undefined && Number.isFinite(error.retryAfter) ? Math.max(1, Math.ceil(error.retryAfter)) : null
}

/** What a 4429 close reason appends to carry the wait: `too many requests; retry-after=30` (seconds). */
export const RETRY_AFTER_REASON = '; retry-after='

/**
 * The close code and reason for an outcome answered after the upgrade. A page sees no HTTP headers, so a 4429 carries
 * the wait in its reason (`too many requests; retry-after=30`): a number of seconds, far inside the 123 bytes a reason
 * may have, and nothing secret.
 */
export function closeAnswer (error: WsAuthError): { code: number, reason: string } {
  const rule = OUTCOMES[error.outcome]
  const retryAfter = rule.closeCode === 4429 ? retryAfterSeconds(error) : null
  return { code: rule.closeCode, reason: retryAfter === null ? rule.reason : rule.reason + RETRY_AFTER_REASON + retryAfter }
}
