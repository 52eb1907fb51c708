import type { FastifyRequest } from 'fastify'
import type { JWTPayload } from 'jose'
import { readOptions, type Clock, type SingleUseStore } from '@wsauth/core'
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from '@wsauth/ws-bearer'
import type { PendingSignIn, SignedIn } from './login-codes.js'

/** The verified claims of the provider's ID token. */
export type IdTokenClaims = JWTPayload

export interface OAuth2LoginOptions {
  /** The provider's issuer identifier; its configuration is read from `<issuer>/.well-known/openid-configuration`. */
  issuer: string
  clientId: string
  /** A confidential client's secret (sent with HTTP Basic). Without it the client is public: PKCE alone proves it. */
  clientSecret?: string
  /** Scopes to ask for. Default `['openid', 'profile']`; `openid` is always asked for. */
  scope?: string[]
  /**
   * Maps the verified ID token claims to a local subject and scopes, or `null` to refuse the sign-in (403). The subject
   * is what password-bearer's tokens carry; refreshing them checks it against password-bearer's user store.
   */
  resolveUser: (claims: IdTokenClaims, request: FastifyRequest) => Promise<SignedIn | null> | SignedIn | null
  /** The route that starts a sign-in (link your "Sign in with …" button here). Default `/login/oidc`. */
  startPath?: string
  /** The route the provider sends the browser back to. Default `/login/oidc/callback`. */
  callbackPath?: string
  /**
   * The redirect URI registered at the provider. Default: the request's own origin and `callbackPath`; set it behind a
   * proxy that changes the origin.
   */
  callbackUri?: string | ((request: FastifyRequest) => string)
  /** The app's page that exchanges the one-time code: a path on this origin. Default `/`. */
  successPath?: string
  /** ID token signature algorithms accepted. Default RS256, PS256, ES256, EdDSA. */
  algorithms?: AsymmetricAlgorithm[]
  /** The `grant_type` the one-time code is exchanged with at `POST /token`. Default `authorization_code`. */
  grantType?: string
  /** How long a sign-in may take from start to callback, in seconds. Default 600. */
  loginTtlSeconds?: number
  /** How long a one-time code may wait to be exchanged, in seconds. Default 30. */
  codeTtlSeconds?: number
  /** Where one-time codes wait. Default: the guard's stores (`singleUse('oauth2-login:codes')`), shared by every node on Redis. */
  codes?: SingleUseStore<PendingSignIn>
  /** How long a request to the provider may take, in milliseconds. Default 5000. */
  providerTimeoutMs?: number
  /** After a failure, how long before the provider's configuration is asked for again, in milliseconds. Default 10000. */
  providerCooldownMs?: number
  /** For tests: the clock for sign-in and code expiry and for the ID token's `exp`. Default `Date.now`. */
  clock?: Clock
}

const PLUGIN = '@wsauth/oauth2-login'
const OPTIONS = [
  'issuer', 'clientId', 'clientSecret', 'scope', 'resolveUser', 'startPath', 'callbackPath', 'callbackUri', 'successPath',
  'algorithms', 'grantType', 'loginTtlSeconds', 'codeTtlSeconds', 'codes', 'providerTimeoutMs', 'providerCooldownMs', 'clock',
]

export type LoginSettings = ReturnType<typeof readLoginOptions>

export function readLoginOptions (options: OAuth2LoginOptions) {
  const reader = readOptions(PLUGIN, options, OPTIONS)
  const required = (name: string): string => {
    const value = reader.string(name)
    if (value === undefined) throw reader.error(name, 'is required')
    return value
  }
  const issuer = required('issuer')
  if (!/^https?:\/\//.test(issuer)) throw reader.error('issuer', 'must be an http(s) URL')
  const clientId = required('clientId')
  const resolveUser = reader.function<OAuth2LoginOptions['resolveUser']>('resolveUser')
  if (resolveUser === undefined) throw reader.error('resolveUser', 'is required')
  const callbackUri = options.callbackUri
  if (callbackUri !== undefined && typeof callbackUri !== 'function' && !/^https?:\/\//.test(String(callbackUri))) {
    throw reader.error('callbackUri', 'must be an http(s) URL or a function of the request')
  }
  const successPath = reader.path('successPath', '/')
  // `//host` is a path to the browser's eye but another origin to its navigation.
  if (successPath.startsWith('//')) throw reader.error('successPath', 'must be a path on this origin')
  const algorithms = reader.stringList('algorithms') ?? ['RS256', 'PS256', 'ES256', 'EdDSA']
  if (algorithms.length === 0 || algorithms.some((algorithm) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(algorithm))) {
    throw reader.error('algorithms', `must be a non-empty list of ${ASYMMETRIC_ALGORITHMS.join(', ')}`)
  }
  const codes = reader.raw('codes') as SingleUseStore<PendingSignIn> | undefined
  if (codes !== undefined && (typeof codes?.put !== 'function' || typeof codes.take !== 'function')) {
    throw reader.error('codes', 'must be a SingleUseStore (put and take)')
  }
  const scope = reader.stringList('scope') ?? ['openid', 'profile']
  return {
    issuer,
    clientId,
    clientSecret: reader.string('clientSecret'),
    scope: scope.includes('openid') ? scope : ['openid', ...scope],
    resolveUser,
    startPath: reader.path('startPath', '/login/oidc'),
    callbackPath: reader.path('callbackPath', '/login/oidc/callback'),
    callbackUri: callbackUri as string | ((request: FastifyRequest) => string) | undefined,
    successPath,
    algorithms,
    grantType: reader.string('grantType', 'authorization_code'),
    loginTtlMs: reader.integer('loginTtlSeconds', 600) * 1000,
    codeTtlMs: reader.integer('codeTtlSeconds', 30) * 1000,
    codes,
    providerTimeoutMs: reader.integer('providerTimeoutMs', 5000),
    providerCooldownMs: reader.integer('providerCooldownMs', 10_000, { min: 0 }),
    clock: reader.function<Clock>('clock') ?? Date.now,
  }
}
