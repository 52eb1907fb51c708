import { errors, jwtVerify, type JWTPayload } from 'jose'
import { UpstreamError, type RemoteKeySet } from '@wsauth/ws-bearer'
import { LoginError } from './errors.js'

export interface IdTokenCheck {
  issuer: string
  clientId: string
  /** The nonce this browser's sign-in sent. */
  nonce: string
  algorithms: string[]
  keys: RemoteKeySet
  now: number
}

/**
 * Verifies an ID token as OpenID Connect Core §3.1.3.7 asks of a code-flow client: signed by a key of the provider's
 * JWKS with an allowed algorithm (never `none`, never HMAC), issued by the provider, for this client (and, with several
 * audiences, authorised for it by `azp`), not expired, and carrying this sign-in's nonce.
 */
export async function verifyIdToken (idToken: string, check: IdTokenCheck): Promise<JWTPayload> {
  let payload: JWTPayload
  try {
    ({ payload } = await jwtVerify(idToken, check.keys.getKey, {
      issuer: check.issuer,
      audience: check.clientId,
      algorithms: check.algorithms,
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: new Date(check.now),
    }))
  } catch (error) {
    if (error instanceof UpstreamError) throw new LoginError('provider_unavailable', { cause: error })
    if (error instanceof errors.JOSEError) throw new LoginError('invalid_id_token', { cause: error })
    throw error
  }
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== check.clientId) {
    throw new LoginError('invalid_id_token')
  }
  if (payload.nonce !== check.nonce) throw new LoginError('nonce_mismatch')
  return payload
}
