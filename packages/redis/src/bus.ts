import type { Revocation, RevocationBus, RevocationListener } from '@wsauth/core'
import type { Keys } from './keys.js'
import type { ScriptedConnection } from './scripts.js'

/**
 * The revocation bus on Redis pub/sub: published on the command connection, from the denylist's node (see the
 * `wsauthPublish` script), and received by the node's subscriber.
 */
export class RedisRevocationBus implements RevocationBus {
  readonly #redis: ScriptedConnection
  readonly #keys: Keys
  readonly #listeners = new Set<RevocationListener>()

  constructor (redis: ScriptedConnection, keys: Keys) {
    this.#redis = redis
    this.#keys = keys
  }

  async publish (revocation: Revocation): Promise<void> {
    await this.#redis.wsauthPublish(this.#keys.denyList, this.#keys.channel, JSON.stringify(revocation))
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
