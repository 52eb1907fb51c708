/**
 * Refresh-token families: one record per login, whatever the number of rotations, so a refresh costs the same at
 * the first rotation and the millionth. Every method touches one family's record, and each promises what a single-key
 * operation can keep on Redis (a hash per family, written by one Lua script or one MULTI).
 */
import type { Clock } from './stores.js'

/** An access token issued in a family: revoking the family denylists it until it expires. */
export interface IssuedAccessToken {
  tokenId: string
  /** Epoch milliseconds. */
  expiresAt: number
}

/** The parts of a family that a rotation replaces. */
export interface RefreshTokenRotation {
  /** The SHA-256 (base64url) of the family's current refresh token: any other token of the family is a spent one. */
  tokenHash: string
  /** Epoch milliseconds after which the family is dead; each rotation renews it. */
  expiresAt: number
  /**
   * The access tokens issued in the family that may still be live, oldest first. The caller keeps the list short:
   * it denylists a token before dropping it, so forgetting one never weakens revocation.
   */
  accessTokens: IssuedAccessToken[]
}

/** One login's family of refresh tokens. */
export interface RefreshTokenFamily extends RefreshTokenRotation {
  subject: string
  /** The scopes granted at login; a refresh may ask for fewer, never more (RFC 6749 §6). */
  scopes: string[]
  /** The client the family was issued to; `null` when client authentication is off. */
  clientId: string | null
}

/**
 * Where refresh-token families live. A family past its `expiresAt` may be forgotten at any time (the memory store
 * drops it, Redis expires its key), so callers check `expiresAt` themselves and never rely on an expired family
 * being found.
 */
export interface RefreshTokenStore {
  /** Stores a new family under an id the caller made at random, never used before. One write of one record. */
  create (familyId: string, family: RefreshTokenFamily): Promise<void>
  /** The family as stored, or `null` when it is unknown. One read of one record. */
  find (familyId: string): Promise<RefreshTokenFamily | null>
  /**
   * Compare-and-swap: when the family exists and its `tokenHash` is `expectedHash`, replaces its `tokenHash`,
   * `expiresAt` and `accessTokens` with `next` and resolves `true`; otherwise changes nothing and resolves `false`.
   * Atomic: of concurrent rotations from one hash exactly one wins, and no rotation succeeds after `delete`.
   */
  rotate (familyId: string, expectedHash: string, next: RefreshTokenRotation): Promise<boolean>
  /**
   * Removes the family and resolves it as it was, or `null` when it was unknown. Atomic with `rotate`: a rotation
   * either happened before (its access token is in the family returned here) or fails; of concurrent deletes of one
   * family, exactly one gets it.
   */
  delete (familyId: string): Promise<RefreshTokenFamily | null>
}

function copy (family: RefreshTokenFamily): RefreshTokenFamily {
  return {
    subject: family.subject,
    scopes: [...family.scopes],
    clientId: family.clientId,
    tokenHash: family.tokenHash,
    expiresAt: family.expiresAt,
    accessTokens: family.accessTokens.map(({ tokenId, expiresAt }) => ({ tokenId, expiresAt })),
  }
}

/**
 * The in-memory store, for one process. Families are kept in the order of their last renewal, which is the order
 * of their expiry when every family gets the same lifetime: expired ones are dropped from the front as the store is
 * written, at a constant cost per write and without ever scanning the live ones.
 */
export class MemoryRefreshTokenStore implements RefreshTokenStore {
  readonly #families = new Map<string, RefreshTokenFamily>()
  readonly #now: Clock

  constructor (options: { now?: Clock } = {}) {
    this.#now = options.now ?? Date.now
  }

  async create (familyId: string, family: RefreshTokenFamily): Promise<void> {
    this.#dropExpired()
    this.#families.set(familyId, copy(family))
  }

  async find (familyId: string): Promise<RefreshTokenFamily | null> {
    const family = this.#live(familyId)
    return family === undefined ? null : copy(family)
  }

  async rotate (familyId: string, expectedHash: string, next: RefreshTokenRotation): Promise<boolean> {
    const family = this.#live(familyId)
    if (family === undefined || family.tokenHash !== expectedHash) return false
    const rotated = copy({ ...family, ...next })
    // Deleted and set again: the renewed family moves to the back, behind every family that expires before it.
    this.#families.delete(familyId)
    this.#families.set(familyId, rotated)
    this.#dropExpired()
    return true
  }

  async delete (familyId: string): Promise<RefreshTokenFamily | null> {
    const family = this.#live(familyId)
    this.#families.delete(familyId)
    return family === undefined ? null : family
  }

  /** Families held, expired ones not yet dropped included. */
  get size (): number {
    return this.#families.size
  }

  #live (familyId: string): RefreshTokenFamily | undefined {
    const family = this.#families.get(familyId)
    if (family === undefined || family.expiresAt > this.#now()) return family
    this.#families.delete(familyId)
    return undefined
  }

  // Stops at the first live family. A family given a longer lifetime than those behind it holds them back until
  // it expires; they are still refused (and dropped) when asked for.
  #dropExpired (): void {
    const now = this.#now()
    for (const [familyId, family] of this.#families) {
      if (family.expiresAt > now) return
      this.#families.delete(familyId)
    }
  }
}
