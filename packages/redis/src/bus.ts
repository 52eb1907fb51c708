import type { Revocation, RevocationBus, RevocationListener } from '@wsauth/core'
import type { Keys } from './keys.js'
import type { RedisConnection } from './scripts.js'

/** The revocation bus on Redis pub/sub: published on the command connection, received by the node's subscriber. */
export class RedisRevocationBus implements RevocationBus {
  readonly #redis: RedisConnection
  readonly #keys: Keys
  readonly #listeners = new Set<RevocationListener>()

  constructor (redis: RedisConnection, keys: Keys) {
    this.#redis = redis
    this.#keys = keys
  }

  async publish (revocation: Revocation): Promise<void> {
    await this.#redis.publish(this.#keys.channel, JSON.stringify(revocation))
  }

  subscribe (listener: RevocationListener): () => void {
    const subscription: RevocationListener = (revocation) => listener(revocation)
    this.#listeners.add(subscription)
    return () => { this.#listeners.delete(subscription) }
  }

  /** A revocation the subscriber received. */
  deliver (revocation: Revocation): void {
    for (const listener of this.#listeners) listener(revocation)
  }
}
