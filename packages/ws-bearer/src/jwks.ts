import { createLocalJWKSet, errors, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose'
import type { Clock } from '@wsauth/core'
import { UpstreamError, fetchJson } from './remote-json.js'

export interface RemoteKeySetOptions {
  /** How long fetched keys serve before a lookup fetches them again, in milliseconds. Default 10 minutes. */
  maxAgeMs?: number
  /** The least time between two fetches, in milliseconds: an unknown `kid` fetches at most once per this. Default 30 s. */
  cooldownMs?: number
  /** How long a fetch may take, in milliseconds. Default 5 s. */
  timeoutMs?: number
  /** For tests. Default `Date.now`. */
  clock?: Clock
  /** Told of every fetch that failed, for a one-line log; the key set goes on with the keys it has. */
  onFetchError?: (error: UpstreamError) => void
}

type LocalKeySet = ReturnType<typeof createLocalJWKSet>

export const KEY_SET_DEFAULTS = { maxAgeMs: 600_000, cooldownMs: 30_000, timeoutMs: 5_000 } as const

/**
 * A provider's JSON Web Key Set, fetched from its URL and cached. Keys serve for `maxAgeMs`; after that a lookup
 * fetches again, and if the provider is down it goes on with the cached keys. A token whose `kid` is not in the set
 * (the provider rotated its keys) fetches again at once, but never more than once per `cooldownMs`, whatever the
 * tokens say. Concurrent lookups share one fetch.
 */
export class RemoteKeySet {
  readonly url: string
  readonly #maxAgeMs: number
  readonly #cooldownMs: number
  readonly #timeoutMs: number
  readonly #clock: Clock
  readonly #onFetchError: (error: UpstreamError) => void
  #keys: LocalKeySet | null = null
  #fetchedAt = -Infinity
  #attemptedAt = -Infinity
  #fetching: Promise<void> | null = null
  // The last fetch's failure; `null` once one succeeds.
  #failure: UpstreamError | null = null

  constructor (url: string, options: RemoteKeySetOptions = {}) {
    this.url = url
    this.#maxAgeMs = options.maxAgeMs ?? KEY_SET_DEFAULTS.maxAgeMs
    this.#cooldownMs = options.cooldownMs ?? KEY_SET_DEFAULTS.cooldownMs
    this.#timeoutMs = options.timeoutMs ?? KEY_SET_DEFAULTS.timeoutMs
    this.#clock = options.clock ?? Date.now
    this.#onFetchError = options.onFetchError ?? (() => {})
  }

  /**
   * jose's key lookup (pass it to `jwtVerify`). Rejects with an `UpstreamError` when no key set could ever be fetched,
   * or when the token's `kid` is unknown and the last fetch failed (the key may be new: the provider cannot say); with
   * jose's `JWKSNoMatchingKey` when the set, fetched within the cooldown, has no such key.
   */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): ReturnType<LocalKeySet> => {
    if (this.#keys === null) {
      await this.#refetch(true)
    } else if (this.#clock() - this.#fetchedAt >= this.#maxAgeMs && !this.#coolingDown()) {
      await this.#refetch(false)
    }
    try {
      return await this.#keys!(header, token)
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error
      if (this.#coolingDown()) throw this.#failure ?? error
    }
    await this.#refetch(true)
    return await this.#keys!(header, token)
  }

  #coolingDown (): boolean {
    return this.#clock() - this.#attemptedAt < this.#cooldownMs
  }

  /** Fetches the set (or joins the fetch under way). `required`: a failure rejects instead of keeping the cached keys. */
  async #refetch (required: boolean): Promise<void> {
    // Within the cooldown a failed fetch is not tried again: the last failure stands.
    const failure = this.#failure
    if (this.#fetching === null && this.#coolingDown() && this.#keys === null && failure !== null) throw failure
    this.#fetching ??= this.#fetch().finally(() => { this.#fetching = null })
    try {
      await this.#fetching
    } catch (error) {
      if (required) throw error
    }
  }

  async #fetch (): Promise<void> {
    this.#attemptedAt = this.#clock()
    try {
      const document = await fetchJson(this.url, this.#timeoutMs)
      let keys: LocalKeySet
      try {
        keys = createLocalJWKSet(document as Parameters<typeof createLocalJWKSet>[0])
      } catch (error) {
        throw new UpstreamError('bad_response', `${this.url}: not a JSON Web Key Set`, { cause: error })
      }
      this.#keys = keys
      this.#fetchedAt = this.#clock()
      this.#failure = null
    } catch (error) {
      this.#failure = error as UpstreamError
      this.#onFetchError(this.#failure)
      throw error
    }
  }
}
