import type { SingleUseStore } from '@wsauth/core'
import type { Keys } from './keys.js'
import type { RedisConnection } from './scripts.js'

/** Single-use values on Redis: `take` is one GETDEL, so of any number of takes on any nodes exactly one gets the value. */
export class RedisSingleUseStore<T> implements SingleUseStore<T> {
  readonly #redis: RedisConnection
  readonly #keys: Keys
  readonly #namespace: string

  constructor (redis: RedisConnection, keys: Keys, namespace: string) {
    this.#redis = redis
    this.#keys = keys
    this.#namespace = namespace
  }

  async put (key: string, value: T, expiresAt: number): Promise<void> {
    // A lifetime relative to now, not Redis's clock: a node whose clock differs from Redis's would otherwise store values
    // that are already gone, or that outlive their time. A value already expired is never stored.
    const lifetimeMs = Math.ceil(expiresAt - Date.now())
    if (lifetimeMs <= 0) return
    await this.#redis.set(this.#keys.singleUse(this.#namespace, key), JSON.stringify(value), 'PX', lifetimeMs)
  }

  async take (key: string): Promise<T | null> {
    const stored = await this.#redis.getdel(this.#keys.singleUse(this.#namespace, key))
    return stored === null ? null : JSON.parse(stored) as T
  }
}
