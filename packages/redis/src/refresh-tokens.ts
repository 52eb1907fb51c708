import type { IssuedAccessToken, RefreshTokenFamily, RefreshTokenRotation, RefreshTokenStore } from '@wsauth/core'
import type { Keys } from './keys.js'
import type { ScriptedConnection } from './scripts.js'

/** A family's fields as stored in its hash: strings, the lists and the client id as JSON. */
function fields (family: RefreshTokenFamily): Record<string, string> {
  return {
    subject: family.subject,
    scopes: JSON.stringify(family.scopes),
    clientId: JSON.stringify(family.clientId),
    tokenHash: family.tokenHash,
    expiresAt: String(family.expiresAt),
    accessTokens: JSON.stringify(family.accessTokens),
  }
}

function familyOf (stored: Record<string, string>): RefreshTokenFamily | null {
  if (stored.tokenHash === undefined) return null
  return {
    subject: stored.subject!,
    scopes: JSON.parse(stored.scopes!) as string[],
    clientId: JSON.parse(stored.clientId!) as string | null,
    tokenHash: stored.tokenHash,
    expiresAt: Number(stored.expiresAt),
    accessTokens: JSON.parse(stored.accessTokens!) as IssuedAccessToken[],
  }
}

/** HGETALL's flat reply from a script (`[field, value, …]`) as an object. */
function pairs (flat: string[]): Record<string, string> {
  const stored: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) stored[flat[i]!] = flat[i + 1]!
  return stored
}

/**
 * Refresh-token families on Redis: one hash per family, expiring with the family. A rotation is one script (a
 * compare-and-swap of the current token's hash) and a revocation another (read and delete), so two nodes racing on
 * one family cannot both win.
 */
export class RedisRefreshTokenStore implements RefreshTokenStore {
  readonly #redis: ScriptedConnection
  readonly #keys: Keys

  constructor (redis: ScriptedConnection, keys: Keys) {
    this.#redis = redis
    this.#keys = keys
  }

  async create (familyId: string, family: RefreshTokenFamily): Promise<void> {
    const key = this.#keys.family(familyId)
    await this.#redis.multi().hset(key, fields(family)).pexpireat(key, Math.ceil(family.expiresAt)).exec()
  }

  async find (familyId: string): Promise<RefreshTokenFamily | null> {
    return familyOf(await this.#redis.hgetall(this.#keys.family(familyId)))
  }

  async rotate (familyId: string, expectedHash: string, next: RefreshTokenRotation): Promise<boolean> {
    const swapped = await this.#redis.wsauthRotate(
      this.#keys.family(familyId), expectedHash, next.tokenHash, Math.ceil(next.expiresAt), JSON.stringify(next.accessTokens)
    )
    return Number(swapped) === 1
  }

  async delete (familyId: string): Promise<RefreshTokenFamily | null> {
    return familyOf(pairs(await this.#redis.wsauthTakeFamily(this.#keys.family(familyId)) as string[]))
  }
}
