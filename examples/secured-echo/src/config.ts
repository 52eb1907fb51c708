/** secured-echo's settings, from the environment. */
export interface Config {
  host: string
  port: number
  logLevel: string
  tokenTtlSeconds: number
  /** Exact Origin allowlist for browsers. */
  allowedOrigins: string[]
  /** Signs and verifies access tokens; a random one per process unless JWT_SECRET is set. */
  jwtSecret: string
  /** Signs the session cookie (COOKIE_SECRETS, comma-separated: the first signs, all verify); random per process by default. */
  cookieSecrets: string[]
  /** Sign-in with an OpenID Connect provider, when OIDC_ISSUER is set; `null` otherwise. */
  oidc: OidcConfig | null
  /**
   * REDIS_URL: set, every wsauth store and the revocation bus are on this Redis, so several processes behave as one
   * service (give them one JWT_SECRET and one COOKIE_SECRETS); unset, in memory, one process.
   */
  redisUrl: string | null
}

export interface OidcConfig {
  issuer: string
  /** OIDC_CLIENT_ID; default `secured-echo`, the dev provider's client for this example. */
  clientId: string
  /** OIDC_CLIENT_SECRET, for providers that registered this app as a confidential client. */
  clientSecret: string | undefined
  /** The button says "Sign in with <providerName>" (OIDC_PROVIDER_NAME). Default `the dev provider`. */
  providerName: string
}

function integer (value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined || value === '') return fallback
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed) || parsed < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`)
  return parsed
}

export function configFromEnv (env: NodeJS.ProcessEnv, randomSecret: () => string): Config {
  const port = integer(env.PORT, 8000, 'PORT', 0)
  const allowedOrigins = (env.ALLOWED_ORIGINS ?? `http://localhost:${port},http://127.0.0.1:${port}`)
    .split(',').map((origin) => origin.trim()).filter((origin) => origin !== '')
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    logLevel: env.LOG_LEVEL ?? 'info',
    tokenTtlSeconds: integer(env.TOKEN_TTL_SECONDS, 900, 'TOKEN_TTL_SECONDS', 1),
    allowedOrigins,
    jwtSecret: env.JWT_SECRET ?? randomSecret(),
    cookieSecrets: (env.COOKIE_SECRETS ?? randomSecret()).split(',').map((secret) => secret.trim()).filter((secret) => secret !== ''),
    redisUrl: env.REDIS_URL === undefined || env.REDIS_URL === '' ? null : env.REDIS_URL,
    oidc: env.OIDC_ISSUER === undefined || env.OIDC_ISSUER === ''
      ? null
      : {
          issuer: env.OIDC_ISSUER,
          clientId: env.OIDC_CLIENT_ID || 'secured-echo',
          clientSecret: env.OIDC_CLIENT_SECRET || undefined,
          providerName: env.OIDC_PROVIDER_NAME || 'the dev provider',
        },
  }
}
