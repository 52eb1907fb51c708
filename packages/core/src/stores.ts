/**
 * Store interfaces shared by the packages, with in-memory implementations for one process. `@wsauth/redis`
 * implements the same interfaces for many nodes.
 */

/** Revoked token ids, each kept until its token would have expired anyway. */
export interface DenyList {
  add (tokenId: string, expiresAt: number | null): Promise<void>
  /** May answer synchronously (the in-memory list does), so a handshake need not wait a tick for it. */
  has (tokenId: string): boolean | Promise<boolean>
}

/** Failed attempts per key in a fixed window. */
export interface FailureCounter {
  /** Seconds until `key` may try again; 0 when it is not blocked. */
  blockedFor (key: string): Promise<number>
  fail (key: string): Promise<void>
  /**
   * Checks and counts in one step, before the attempt is judged, so that attempts made in parallel cannot all pass
   * a check that none has counted yet: the seconds to wait when `key` is blocked (nothing is counted then), else 0
   * (and the attempt is counted as a failure until `forgive` takes it back).
   */
  attempt (key: string): Promise<number>
  /** Takes back one counted attempt that turned out to succeed. */
  forgive (key: string): Promise<void>
  reset (key: string): Promise<void>
}

export type Clock = () => number

// Expired entries are swept once the map has grown by this many since the last sweep.
const SWEEP_EVERY = 1024

export class MemoryDenyList implements DenyList {
  readonly #entries = new Map<string, number | null>()
  readonly #now: Clock
  #sizeAtSweep = 0

  constructor (options: { now?: Clock } = {}) {
    this.#now = options.now ?? Date.now
  }

  async add (tokenId: string, expiresAt: number | null): Promise<void> {
    this.#entries.set(tokenId, expiresAt)
    if (this.#entries.size - this.#sizeAtSweep >= SWEEP_EVERY) this.#sweep()
  }

  has (tokenId: string): boolean {
    if (!this.#entries.has(tokenId)) return false
    const expiresAt = this.#entries.get(tokenId)!
    if (expiresAt !== null && expiresAt <= this.#now()) {
      this.#entries.delete(tokenId)
      return false
    }
    return true
  }

  get size (): number {
    return this.#entries.size
  }

  #sweep (): void {
    const now = this.#now()
    for (const [id, expiresAt] of this.#entries) {
      if (expiresAt !== null && expiresAt <= now) this.#entries.delete(id)
    }
    this.#sizeAtSweep = this.#entries.size
  }
}

export interface FailureCounterOptions {
  /** Failures allowed in one window before the key is blocked. */
  limit: number
  /** Window length in milliseconds. */
  windowMs: number
  now?: Clock
}

export class MemoryFailureCounter implements FailureCounter {
  readonly #windows = new Map<string, { count: number, resetAt: number }>()
  readonly #limit: number
  readonly #windowMs: number
  readonly #now: Clock
  #sizeAtSweep = 0

  constructor (options: FailureCounterOptions) {
    // A finite window: an infinite one would never expire (the map would only grow) and blocks for `Infinity` seconds.
    if (!(options.limit >= 1) || !(options.windowMs > 0) || !Number.isFinite(options.windowMs)) {
      throw new TypeError('limit must be >= 1 and windowMs a finite number > 0')
    }
    this.#limit = options.limit
    this.#windowMs = options.windowMs
    this.#now = options.now ?? Date.now
  }

  async blockedFor (key: string): Promise<number> {
    return this.#wait(key)
  }

  async fail (key: string): Promise<void> {
    this.#count(key)
  }

  async attempt (key: string): Promise<number> {
    // No await between the check and the count: that gap is what parallel attempts would slip through.
    const wait = this.#wait(key)
    if (wait === 0) this.#count(key)
    return wait
  }

  async forgive (key: string): Promise<void> {
    const window = this.#current(key)
    if (window !== undefined && window.count > 0) window.count--
  }

  async reset (key: string): Promise<void> {
    this.#windows.delete(key)
  }

  /** Keys held, including expired windows not yet swept (as `MemoryDenyList.size`). */
  get size (): number {
    return this.#windows.size
  }

  #wait (key: string): number {
    const window = this.#current(key)
    if (window === undefined || window.count < this.#limit) return 0
    return Math.ceil((window.resetAt - this.#now()) / 1000)
  }

  #count (key: string): void {
    const window = this.#current(key)
    if (window === undefined) {
      this.#windows.set(key, { count: 1, resetAt: this.#now() + this.#windowMs })
      if (this.#windows.size - this.#sizeAtSweep >= SWEEP_EVERY) this.#sweep()
    } else {
      window.count++
    }
  }

  #current (key: string): { count: number, resetAt: number } | undefined {
    const window = this.#windows.get(key)
    if (window !== undefined && window.resetAt <= this.#now()) {
      this.#windows.delete(key)
      return undefined
    }
    return window
  }

  #sweep (): void {
    const now = this.#now()
    for (const [key, window] of this.#windows) {
      if (window.resetAt <= now) this.#windows.delete(key)
    }
    this.#sizeAtSweep = this.#windows.size
  }
}
