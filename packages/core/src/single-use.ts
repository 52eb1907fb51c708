import type { Clock } from './stores.js'

/**
 * Values that are taken at most once before they expire: one-time sign-in codes, connection tickets. `take` is atomic:
 * of two takes of one key, on any node, one gets the value and the other `null`. Values are plain JSON data, so a
 * store may serialise them.
 */
export interface SingleUseStore<T> {
  /** Keeps `value` under `key` until `expiresAt` (epoch milliseconds). */
  put (key: string, value: T, expiresAt: number): Promise<void>
  /** The value, removed in the same step; `null` when the key is unknown, taken already or expired. */
  take (key: string): Promise<T | null>
}

// Expired entries are swept once the map has grown by this many since the last sweep.
const SWEEP_EVERY = 1024

export class MemorySingleUseStore<T> implements SingleUseStore<T> {
  readonly #entries = new Map<string, { value: T, expiresAt: number }>()
  readonly #now: Clock
  #sizeAtSweep = 0

  constructor (options: { now?: Clock } = {}) {
    this.#now = options.now ?? Date.now
  }

  async put (key: string, value: T, expiresAt: number): Promise<void> {
    this.#entries.set(key, { value, expiresAt })
    if (this.#entries.size - this.#sizeAtSweep >= SWEEP_EVERY) this.#sweep()
  }

  async take (key: string): Promise<T | null> {
    const entry = this.#entries.get(key)
    if (entry === undefined) return null
    this.#entries.delete(key)
    return entry.expiresAt > this.#now() ? entry.value : null
  }

  /** Values held, including expired ones not yet swept. */
  get size (): number {
    return this.#entries.size
  }

  #sweep (): void {
    const now = this.#now()
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key)
    }
    this.#sizeAtSweep = this.#entries.size
  }
}
