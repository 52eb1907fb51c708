import { createHash, randomBytes } from 'node:crypto'

/**
 * A refresh token is `<family id>.<secret>`: the family id finds the family's one record, the secret proves the
 * token is the family's current one. Both are random (16 and 32 bytes, base64url); the store keeps only the
 * secret's SHA-256, so a leaked store holds no usable token.
 */
export interface RefreshToken {
  token: string
  familyId: string
  /** The SHA-256 of the secret, base64url: what the family records. */
  hash: string
}

const FAMILY_ID_BYTES = 16
const SECRET_BYTES = 32
const FORMAT = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/

function hashSecret (secret: string): string {
  return createHash('sha256').update(secret).digest('base64url')
}

export function newFamilyId (): string {
  return randomBytes(FAMILY_ID_BYTES).toString('base64url')
}

/** A fresh token of the family, with a new secret. */
export function newRefreshToken (familyId: string): RefreshToken {
  const secret = randomBytes(SECRET_BYTES).toString('base64url')
  return { token: `${familyId}.${secret}`, familyId, hash: hashSecret(secret) }
}

/** The family and hash a presented token names; `null` when it is not a refresh token of this format. */
export function parseRefreshToken (token: string): RefreshToken | null {
  const match = FORMAT.exec(token)
  return match === null ? null : { token, familyId: match[1]!, hash: hashSecret(match[2]!) }
}
