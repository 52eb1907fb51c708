import type { FastifyInstance } from 'fastify'
import { decodeJwt, errors, jwtVerify } from 'jose'
import { WsAuthError, readOptions, type Clock } from '@wsauth/core'
import { KEY_SET_DEFAULTS, RemoteKeySet } from './jwks.js'
import type { IdentityInit, TokenVerifier } from './options.js'
import { UpstreamError } from './remote-json.js'
import { VerifiedTokens, createTokenVerifier, frozenIdentity } from './verifier.js'

/** Asymmetric JWS algorithms: a key set from a URL is public, so an HMAC "key" from it would be no secret at all. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const
export type AsymmetricAlgorithm = typeof ASYMMETRIC_ALGORITHMS[number]

export interface ExternalIssuerOptions {
  /** The provider's issuer identifier: tokens must carry exactly this `iss`. */
  issuer: string
  /** The audience (`aud`) your API is known by at the provider; a list accepts any of them. */
  audience: string | string[]
  /** The provider's JWKS URL (`jwks_uri` in its OpenID configuration). */
  jwksUri: string
  /** Accepted signature algorithms. Default RS256, ES256, EdDSA. */
  algorithms?: AsymmetricAlgorithm[]
  /** Seconds of leeway on `exp` and `nbf`. Default 0. */
  clockToleranceSeconds?: number
  /** See `RemoteKeySet`. */
  keysMaxAgeMs?: number
  keysCooldownMs?: number
  keysTimeoutMs?: number
  /** Verifies tokens of any other issuer (the app's own JWTs: `jwtVerifier(app)`); without it they are invalid. */
  otherIssuers?: TokenVerifier
  /** Told of each failed key set fetch (a one-line log, say); verification goes on with the cached keys. */
  onKeySetError?: (error: Error) => void
  /** For tests: the clock for `exp`, `nbf` and the key cache. Default `Date.now`. */
  clock?: Clock
}

const OPTIONS = [
  'issuer', 'audience', 'jwksUri', 'algorithms', 'clockToleranceSeconds', 'keysMaxAgeMs', 'keysCooldownMs', 'keysTimeoutMs',
  'otherIssuers', 'onKeySetError', 'clock',
]

function readExternalIssuerOptions (options: ExternalIssuerOptions) {
  const reader = readOptions('@wsauth/ws-bearer externalIssuerVerifier', options, OPTIONS)
  const issuer = reader.string('issuer')
  if (issuer === undefined) throw reader.error('issuer', 'is required')
  const jwksUri = reader.string('jwksUri')
  if (jwksUri === undefined) throw reader.error('jwksUri', 'is required')
  if (!/^https?:\/\//.test(jwksUri)) throw reader.error('jwksUri', 'must be an http(s) URL')
  const audience = typeof options.audience === 'string' ? [reader.string('audience')!] : reader.stringList('audience')
  if (audience === undefined || audience.length === 0) throw reader.error('audience', 'is required: a string or a non-empty array of strings')
  const algorithms = reader.stringList('algorithms') ?? ['RS256', 'ES256', 'EdDSA']
  const symmetric = algorithms.find((algorithm) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(algorithm))
  if (symmetric !== undefined || algorithms.length === 0) {
    throw reader.error('algorithms', `must be a non-empty list of ${ASYMMETRIC_ALGORITHMS.join(', ')}`)
  }
  return {
    issuer,
    audience,
    jwksUri,
    algorithms,
    clockTolerance: reader.integer('clockToleranceSeconds', 0, { min: 0 }),
    keySet: {
      maxAgeMs: reader.integer('keysMaxAgeMs', KEY_SET_DEFAULTS.maxAgeMs),
      cooldownMs: reader.integer('keysCooldownMs', KEY_SET_DEFAULTS.cooldownMs, { min: 0 }),
      timeoutMs: reader.integer('keysTimeoutMs', KEY_SET_DEFAULTS.timeoutMs),
    },
    otherIssuers: reader.function<TokenVerifier>('otherIssuers') ?? null,
    onKeySetError: reader.function<(error: Error) => void>('onKeySetError'),
    clock: reader.function<Clock>('clock') ?? Date.now,
  }
}

function issuerOf (token: string): unknown {
  try {
    return decodeJwt(token).iss
  } catch {
    return undefined
  }
}

/**
 * The guard's `verify` for access tokens of an external OpenID Connect / OAuth 2 provider: JWTs signed with a key of
 * the provider's JWKS (fetched, cached, refetched on an unknown `kid`), with the configured issuer and audience and an
 * `exp`. Tokens of another issuer go to `otherIssuers`. Verified tokens are remembered as the guard remembers its own
 * JWTs (by token, until `exp`, ten minutes at most).
 */
export function externalIssuerVerifier (options: ExternalIssuerOptions): TokenVerifier {
  const settings = readExternalIssuerOptions(options)
  const { clock, otherIssuers } = settings
  const keys = new RemoteKeySet(settings.jwksUri, { ...settings.keySet, clock, onFetchError: settings.onKeySetError })
  const verified = new VerifiedTokens()
  const invalid = (error: unknown): never => {
    if (error instanceof UpstreamError) throw new WsAuthError('unavailable', 'key set unavailable', { cause: error })
    throw error instanceof errors.JOSEError ? new WsAuthError('invalid', 'invalid token') : error
  }
  return (token, request) => {
    const now = clock()
    const known = verified.get(token, now)
    if (known !== undefined) return known
    if (issuerOf(token) !== settings.issuer) return otherIssuers === null ? null : otherIssuers(token, request)
    return jwtVerify(token, keys.getKey, {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: settings.algorithms,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: settings.clockTolerance,
      currentDate: new Date(now),
    }).then(({ payload }): IdentityInit => {
      const init = frozenIdentity(payload)
      verified.set(token, init, now)
      return init
    }, invalid)
  }
}

/**
 * The guard's own JWT verification (the app's @fastify/jwt, remembered by token), as a `TokenVerifier` to combine with
 * another: `externalIssuerVerifier({ …, otherIssuers: jwtVerifier(app) })`. Register @fastify/jwt first.
 */
export function jwtVerifier (fastify: FastifyInstance, options: { namespace?: string, clock?: Clock } = {}): TokenVerifier {
  return createTokenVerifier(fastify, undefined, options.namespace, options.clock ?? Date.now)
}
