import { createHash, randomBytes } from 'node:crypto'
import type { Clock } from '@wsauth/core'

/** One refresh token, stored under the SHA-256 of the token: a leaked store holds no usable token. */
export interface RefreshTokenRecord {
  /** Every token rotated from one login shares its family; reuse of any of them revokes all of them. */
  familyId: string
  subject: string
  /** The scopes granted at login; a refresh may ask for fewer, never more (RFC 6749 §6). */
  scopes: string[]
  /** The client the token was issued to; `null` when client authentication is off. */
  clientId: string | null
  /** Epoch milliseconds. */
  expiresAt: number
  /** Epoch milliseconds of the one refresh it was spent on; `null` while unused. */
  usedAt: number | null
}

/** An access token issued in a family, kept so that revoking the family can revoke it too. */
export interface IssuedAccessToken {
  tokenId: string
  /** Epoch milliseconds. */
  expiresAt: number
}

/**
 * Where refresh tokens live. Records may outlive their `expiresAt` (the plugin checks it); a used token must be
 * kept until it expires, or its reuse could not be detected.
 */
export interface RefreshTokenStore {
  find (hash: string): Promise<RefreshTokenRecord | null>
  /**
   * Sets `usedAt` if it is `null`, atomically, and returns the record as it was before: of two concurrent calls
   * exactly one sees `usedAt: null`. `null` when the token is unknown.
   */
  markUsed (hash: string, at: number): Promise<RefreshTokenRecord | null>
  /** Stores a new refresh token and records the access token issued with it in the token's family. */
  save (hash: string, record: RefreshTokenRecord, accessToken: IssuedAccessToken): Promise<void>
  /** Deletes every refresh token of a family; returns the access tokens issued in it, for revocation. */
  deleteFamily (familyId: string): Promise<IssuedAccessToken[]>
}

/** An opaque refresh token: 32 random bytes, base64url. */
export function generateRefreshToken (): string {
  return randomBytes(32).toString('base64url')
}

export function hashRefreshToken (token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

interface Family {
  hashes: Set<string>
  accessTokens: IssuedAccessToken[]
}

// Expired tokens are swept once the map has grown by this many since the last sweep (as core's memory stores).
const SWEEP_EVERY = 1024

function copy (record: RefreshTokenRecord): RefreshTokenRecord {
  return { ...record, scopes: [...record.scopes] }
}

export class MemoryRefreshTokenStore implements RefreshTokenStore {
  readonly #tokens = new Map<string, RefreshTokenRecord>()
  readonly #families = new Map<string, Family>()
  readonly #now: Clock
  #sizeAtSweep = 0

  constructor (options: { now?: Clock } = {}) {
    this.#now = options.now ?? Date.now
  }

  async find (hash: string): Promise<RefreshTokenRecord | null> {
    const record = this.#tokens.get(hash)
    return record === undefined ? null : copy(record)
  }

  async markUsed (hash: string, at: number): Promise<RefreshTokenRecord | null> {
    const record = this.#tokens.get(hash)
    if (record === undefined) return null
    const before = copy(record)
    if (record.usedAt === null) record.usedAt = at
    return before
  }

  async save (hash: string, record: RefreshTokenRecord, accessToken: IssuedAccessToken): Promise<void> {
    this.#tokens.set(hash, copy(record))
    let family = this.#families.get(record.familyId)
    if (family === undefined) this.#families.set(record.familyId, (family = { hashes: new Set(), accessTokens: [] }))
    family.hashes.add(hash)
    const now = this.#now()
    family.accessTokens = family.accessTokens.filter((issued) => issued.expiresAt > now)
    family.accessTokens.push({ ...accessToken })
    if (this.#tokens.size - this.#sizeAtSweep >= SWEEP_EVERY) this.#sweep()
  }

  async deleteFamily (familyId: string): Promise<IssuedAccessToken[]> {
    const family = this.#families.get(familyId)
    if (family === undefined) return []
    this.#families.delete(familyId)
    for (const hash of family.hashes) this.#tokens.delete(hash)
    return family.accessTokens.map((issued) => ({ ...issued }))
  }

  /** Tokens held, used ones and expired ones not yet swept included. */
  get size (): number {
    return this.#tokens.size
  }

  #sweep (): void {
    const now = this.#now()
    for (const [hash, record] of this.#tokens) {
      if (record.expiresAt > now) continue
      this.#tokens.delete(hash)
      const family = this.#families.get(record.familyId)
      family?.hashes.delete(hash)
      if (family?.hashes.size === 0) this.#families.delete(record.familyId)
    }
    this.#sizeAtSweep = this.#tokens.size
  }
}
