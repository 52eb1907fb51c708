import type { FastifyInstance } from 'fastify'
import { WsAuthError } from '@wsauth/core'
import { isPromise } from './maybe-async.js'
import type { IdentityInit, TokenVerifier } from './options.js'

interface JwtVerifier {
  verify (token: string): unknown
  options?: { verify?: { maxAge?: unknown } }
}

/** The app's @fastify/jwt decorator; verifying without per-call options keeps fast-jwt's cached verifier. */
function jwtDecorator (fastify: FastifyInstance, namespace: string | undefined): JwtVerifier {
  const jwt = (fastify as unknown as { jwt?: Record<string, unknown> }).jwt
  const decorator = namespace === undefined ? jwt : jwt?.[namespace]
  if (decorator === undefined || typeof (decorator as Partial<JwtVerifier>).verify !== 'function') {
    throw new Error(
      namespace === undefined
        ? '@wsauth/ws-bearer: register @fastify/jwt before the guard, or pass a `verify` function for opaque tokens'
        : `@wsauth/ws-bearer: no @fastify/jwt namespace "${namespace}"`
    )
  }
  return decorator as JwtVerifier
}

function isJwtError (error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('FAST_JWT_') || code.startsWith('FST_JWT_'))
}

function scopesOf (claims: Record<string, unknown>): string[] {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter((scope) => scope !== '')
  if (Array.isArray(claims.scp)) return claims.scp.filter((scope): scope is string => typeof scope === 'string')
  return []
}

/** A JWT payload as an identity: `sub` is required; `exp`, `jti` and `scope`/`scp` are read when present. */
export function identityFromClaims (claims: Record<string, unknown>): IdentityInit {
  if (typeof claims.sub !== 'string' || claims.sub === '') throw new WsAuthError('invalid', 'token has no subject')
  return {
    subject: claims.sub,
    scopes: scopesOf(claims),
    claims,
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
    tokenId: typeof claims.jti === 'string' ? claims.jti : null,
  }
}

/** How many verified tokens the guard remembers, and for how long at most (fast-jwt's own cache defaults). */
export const VERIFIED_TOKENS_MAX = 1000
export const VERIFIED_TOKENS_TTL_MS = 600_000

/**
 * Successful JWT verifications, by token. fast-jwt's cache keys each lookup by a fresh SHA-256 of the token, which
 * costs about what the HMAC it saves does; a string-keyed Map costs next to nothing. An entry never outlives the
 * token's `exp` nor ten minutes (so a key rotation takes effect by then, as with fast-jwt's cache); expiry and the
 * denylist are still checked on every use, after this.
 */
export class VerifiedTokens {
  readonly #entries = new Map<string, { init: IdentityInit, until: number }>()

  get (token: string, now: number): IdentityInit | undefined {
    const entry = this.#entries.get(token)
    if (entry === undefined) return undefined
    if (entry.until > now) return entry.init
    this.#entries.delete(token)
    return undefined
  }

  set (token: string, init: IdentityInit, now: number): void {
    // Oldest first out: Map keeps insertion order.
    if (this.#entries.size >= VERIFIED_TOKENS_MAX) this.#entries.delete(this.#entries.keys().next().value!)
    this.#entries.set(token, { init, until: Math.min(init.expiresAt ?? Infinity, now + VERIFIED_TOKENS_TTL_MS) })
  }
}

/** A verified JWT payload as a frozen identity: one token's sockets share it, so no route can change what another sees. */
export function frozenIdentity (claims: unknown): IdentityInit {
  if (claims === null || typeof claims !== 'object') throw new WsAuthError('invalid', 'invalid token')
  const init = identityFromClaims(Object.freeze(claims as Record<string, unknown>))
  Object.freeze(init.scopes)
  return Object.freeze(init)
}

export function createTokenVerifier (
  fastify: FastifyInstance,
  verify: TokenVerifier | undefined,
  namespace: string | undefined,
  clock: () => number
): TokenVerifier {
  if (verify !== undefined) return verify
  const jwt = jwtDecorator(fastify, namespace)
  // `maxAge` bounds a token by its `iat`, which only @fastify/jwt checks: with it set, every token goes there.
  const verified = jwt.options?.verify?.maxAge === undefined ? new VerifiedTokens() : null
  const invalid = (error: unknown): never => {
    throw isJwtError(error) ? new WsAuthError('invalid', 'invalid token') : error
  }
  const remember = (token: string, now: number) => (claims: unknown): IdentityInit => {
    const init = frozenIdentity(claims)
    verified?.set(token, init, now)
    return init
  }
  return (token) => {
    const now = clock()
    const known = verified?.get(token, now)
    if (known !== undefined) return known
    let claims: unknown
    try {
      claims = jwt.verify(token)
    } catch (error) {
      return invalid(error)
    }
    // A key function (a JWKS lookup, say) makes @fastify/jwt answer with a promise.
    return isPromise(claims) ? claims.then(remember(token, now), invalid) : remember(token, now)(claims)
  }
}
