import { MemoryDenyList, type DenyList } from '@wsauth/core'
import type { Keys } from './keys.js'
import type { ScriptedConnection } from './scripts.js'

// The latest expiry kept, the last instant a Date can hold (year 275760): a later one (a token that "never" expires,
// `Infinity`) is kept until then. Past about 1e17 ms the script's PEXPIREAT fails, and it would fail at every revocation
// after, since the key's expiry follows its latest entry: each would answer 503 and reach no other node.
const LATEST_EXPIRY = 8.64e15

/** A denylist entry as the channel carries it to every node's mirror. */
export interface Denial {
  kind: 'denied'
  tokenId: string
  expiresAt: number
}

export function isDenial (value: unknown): value is Denial {
  if (typeof value !== 'object' || value === null) return false
  const { kind, tokenId, expiresAt } = value as Partial<Denial>
  return kind === 'denied' && typeof tokenId === 'string' && typeof expiresAt === 'number'
}

/**
 * The denylist on Redis (one sorted set, scored by expiry), mirrored in memory on every node: while the node's
 * subscriber is connected and the mirror was loaded after it subscribed, `has` answers from memory, without a round
 * trip. While it is not (starting, or the subscriber reconnecting, when messages may have been missed), `has` asks
 * Redis, and the mirror is loaded again once the subscriber is back.
 */
export class RedisDenyList implements DenyList {
  readonly #redis: ScriptedConnection
  readonly #keys: Keys
  readonly #maxAgeMs: number
  readonly #mirror = new MemoryDenyList()
  #synced = false
  // Counts `unsync` calls: a load that started before the last one may have missed messages, and does not count.
  #losses = 0

  constructor (redis: ScriptedConnection, keys: Keys, maxAgeMs: number) {
    this.#redis = redis
    this.#keys = keys
    this.#maxAgeMs = maxAgeMs
  }

  /** Whether `has` answers from memory. */
  get synced (): boolean {
    return this.#synced
  }

  /** A token that never expires is kept `maxAgeMs`: every key expires, so the set never grows for good. */
  async add (tokenId: string, expiresAt: number | null): Promise<void> {
    const now = Date.now()
    const until = expiresAt === null || Number.isNaN(expiresAt) ? now + this.#maxAgeMs : Math.min(expiresAt, LATEST_EXPIRY)
    const denial: Denial = { kind: 'denied', tokenId, expiresAt: until }
    await this.#redis.wsauthDeny(this.#keys.denyList, tokenId, until, this.#keys.channel, JSON.stringify(denial))
    this.#remember(tokenId, until)
  }

  has (tokenId: string): boolean | Promise<boolean> {
    if (this.#synced) return this.#mirror.has(tokenId)
    return this.#redis.zscore(this.#keys.denyList, tokenId).then((score) => score !== null && Number(score) > Date.now())
  }

  /** An entry another node wrote, from the channel. */
  mirror (denial: Denial): void {
    this.#remember(denial.tokenId, denial.expiresAt)
  }

  /** The subscriber is gone: messages may be missed from now on. */
  unsync (): void {
    this.#synced = false
    this.#losses++
  }

  /**
   * Loads every live entry into the mirror; call once subscribed, so that an entry is either in what is read here or
   * in a message that comes after. Entries already mirrored stay: an entry is only ever dropped when it expires.
   * Resolves the token ids the mirror did not have: revocations this node missed, whose sockets may still be open.
   */
  async sync (): Promise<string[]> {
    const losses = this.#losses
    const entries = await this.#redis.zrangebyscore(this.#keys.denyList, Date.now(), '+inf', 'WITHSCORES')
    const missed: string[] = []
    for (let i = 0; i + 1 < entries.length; i += 2) {
      const tokenId = entries[i]!
      if (!this.#mirror.has(tokenId)) missed.push(tokenId)
      this.#remember(tokenId, Number(entries[i + 1]))
    }
    this.#synced = losses === this.#losses
    return missed
  }

  // The memory list's `add` is synchronous in effect; its promise never rejects.
  #remember (tokenId: string, expiresAt: number): void {
    this.#mirror.add(tokenId, expiresAt).catch(() => {})
  }
}
