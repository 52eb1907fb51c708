import type { FastifyInstance, FastifyRequest } from 'fastify'
import { WsAuthError, type Credential, type Identity } from '@wsauth/core'
import type { IdentityInit, PasswordVerifier, TokenVerifier } from './options.js'

interface JwtVerifier { verify (token: string): unknown }

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

export function createTokenVerifier (
  fastify: FastifyInstance,
  verify: TokenVerifier | undefined,
  namespace: string | undefined
): TokenVerifier {
  if (verify !== undefined) return verify
  const jwt = jwtDecorator(fastify, namespace)
  return (token) => {
    let claims: unknown
    try {
      claims = jwt.verify(token)
    } catch (error) {
      if (isJwtError(error)) throw new WsAuthError('invalid', 'invalid token')
      throw error
    }
    if (claims === null || typeof claims !== 'object') throw new WsAuthError('invalid', 'invalid token')
    return identityFromClaims(claims as Record<string, unknown>)
  }
}

export function completeIdentity (init: IdentityInit, credential: Credential, now: number): Identity {
  if (typeof init.subject !== 'string' || init.subject === '') throw new Error('a verifier returned an identity without a subject')
  const expiresAt = init.expiresAt ?? null
  if (expiresAt !== null && expiresAt <= now) throw new WsAuthError('invalid', 'token expired')
  return {
    subject: init.subject,
    scopes: init.scopes ?? [],
    claims: init.claims ?? {},
    transport: credential.transport,
    expiresAt,
    tokenId: init.tokenId ?? null,
  }
}

export async function verifyCredential (
  credential: Credential,
  request: FastifyRequest,
  verifyToken: TokenVerifier,
  verifyPassword: PasswordVerifier | undefined
): Promise<IdentityInit> {
  const init = credential.kind === 'token'
    ? await verifyToken(credential.token, request)
    : verifyPassword === undefined ? null : await verifyPassword(credential.username, credential.password, request)
  if (init === null) {
    throw new WsAuthError('invalid', credential.kind === 'token' ? 'invalid token' : 'invalid username or password')
  }
  return init
}
