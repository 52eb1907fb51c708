import type { FailureCounter, FailureWindow } from '@wsauth/core'
import type { Keys } from './keys.js'
import type { ScriptedConnection } from './scripts.js'

/**
 * Failed attempts per key in a fixed window, counted in Redis so that every node counts against one limit. The window
 * runs on Redis's clock: it starts at the key's first failure and ends when the key expires.
 */
export class RedisFailureCounter implements FailureCounter {
  readonly #redis: ScriptedConnection
  readonly #keys: Keys
  readonly #name: string
  readonly #limit: number
  readonly #windowMs: number

  constructor (redis: ScriptedConnection, keys: Keys, name: string, window: FailureWindow) {
    if (!(window.limit >= 1) || !(window.windowMs > 0) || !Number.isFinite(window.windowMs)) {
      throw new TypeError('limit must be >= 1 and windowMs a finite number > 0')
    }
    this.#redis = redis
    this.#keys = keys
    this.#name = name
    this.#limit = window.limit
    this.#windowMs = Math.ceil(window.windowMs)
  }

  async blockedFor (key: string): Promise<number> {
    const redisKey = this.#key(key)
    const [count, ttl] = await Promise.all([this.#redis.get(redisKey), this.#redis.pttl(redisKey)])
    return Number(count ?? 0) >= this.#limit ? seconds(ttl) : 0
  }

  async fail (key: string): Promise<void> {
    await this.#redis.wsauthFail(this.#key(key), this.#windowMs)
  }

  async attempt (key: string): Promise<number> {
    const waitMs = Number(await this.#redis.wsauthAttempt(this.#key(key), this.#limit, this.#windowMs))
    return waitMs === 0 ? 0 : seconds(waitMs)
  }

  async forgive (key: string): Promise<void> {
    await this.#redis.wsauthForgive(this.#key(key))
  }

  async reset (key: string): Promise<void> {
    await this.#redis.del(this.#key(key))
  }

  #key (key: string): string {
    return this.#keys.failures(this.#name, key)
  }
}

// A blocked key waits at least a second: a key about to expire is still blocked now.
function seconds (ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}
