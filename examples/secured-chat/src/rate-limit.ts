import type { Clock } from '@wsauth/core'

export interface RateLimitOptions {
  /** Messages per second a user may send, across all their sockets on this node. */
  perSecond: number
  /** Messages a user may send at once after a quiet spell. Default `perSecond`. */
  burst?: number
  clock?: Clock
}

interface Bucket { tokens: number, at: number }

/**
 * A token bucket per user: `burst` messages at once, refilled at `perSecond`. Buckets of users who have been quiet
 * long enough to be full again are forgotten, so it holds only the users who are sending now.
 */
export class RateLimiter {
  readonly #perMs: number
  readonly #burst: number
  readonly #clock: Clock
  readonly #buckets = new Map<string, Bucket>()
  #sweptAt: number

  constructor (options: RateLimitOptions) {
    if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond)) throw new TypeError('perSecond must be a finite number > 0')
    this.#perMs = options.perSecond / 1000
    this.#burst = options.burst ?? options.perSecond
    if (!(this.#burst >= 1)) throw new TypeError('burst must be >= 1')
    this.#clock = options.clock ?? Date.now
    this.#sweptAt = this.#clock()
  }

  /** Takes one message from `user`'s allowance: `false` when they have none left. */
  take (user: string): boolean {
    const now = this.#clock()
    this.#sweep(now)
    let bucket = this.#buckets.get(user)
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now }
      this.#buckets.set(user, bucket)
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs)
      bucket.at = now
    }
    if (bucket.tokens < 1) return false
    bucket.tokens--
    return true
  }

  /** Users with a bucket now. */
  get size (): number {
    return this.#buckets.size
  }

  #sweep (now: number): void {
    const fullAfterMs = this.#burst / this.#perMs
    if (now - this.#sweptAt < fullAfterMs) return
    this.#sweptAt = now
    for (const [user, bucket] of this.#buckets) {
      if (now - bucket.at >= fullAfterMs) this.#buckets.delete(user)
    }
  }
}
