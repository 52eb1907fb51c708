import { closeAction } from './close-codes.js'

export interface BackoffOptions {
  /** The first delay's upper bound, in ms. Default 500. */
  baseMs?: number
  /** The largest upper bound, in ms. Default 30 000. */
  capMs?: number
  /** How many reconnects in a row before the client gives up. Default: no limit. */
  attempts?: number
  /** How long a connection must stay open to reset the count (and allow another immediate retry on 4401). Default 10 000. */
  stableMs?: number
}

/**
 * What to do after a close: `stop` (4400, 4403), `end` (the server ended the session), `gave-up` (attempts ran out),
 * `now` (the one immediate retry after a 4401), or `wait` `delayMs`, then try again, asking for a token for `reason`.
 */
export type RetryDecision =
  | { action: 'stop' | 'end' | 'gave-up' | 'now' }
  | { action: 'wait', delayMs: number, reason: 'unauthorized' | 'reconnect' }

/** The close-code policy with its memory: failures in a row, and whether the immediate 4401 retry is spent. */
export class RetryPolicy {
  readonly #backoff: BackoffOptions
  readonly #random: () => number
  #failures = 0
  #retriedUnauthorized = false

  constructor (backoff: BackoffOptions = {}, random: () => number = Math.random) {
    this.#backoff = backoff
    this.#random = random
  }

  /** How long a connection must stay open before `reset`. */
  get stableMs (): number {
    return this.#backoff.stableMs ?? 10_000
  }

  decide (code: number, retryAfterMs: number): RetryDecision {
    const action = closeAction(code)
    if (action === 'stop' || action === 'end') return { action }
    if (action === 'unauthorized' && !this.#retriedUnauthorized) {
      this.#retriedUnauthorized = true
      return { action: 'now' }
    }
    const { baseMs = 500, capMs = 30_000, attempts = Infinity } = this.#backoff
    if (++this.#failures > attempts) return { action: 'gave-up' }
    // Full jitter: anywhere between 0 and the exponential bound, so clients dropped together come back spread out.
    const delayMs = Math.max(retryAfterMs, this.#random() * Math.min(capMs, baseMs * 2 ** (this.#failures - 1)))
    return { action: 'wait', delayMs, reason: action === 'unauthorized' ? 'unauthorized' : 'reconnect' }
  }

  /** The connection was stable: start counting again. */
  reset (): void {
    this.#failures = 0
    this.#retriedUnauthorized = false
  }
}
