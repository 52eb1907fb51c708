import type { OAuth2LoginOptions } from '@wsauth/oauth2-login'

/** The chat's settings, from the environment. */
export interface Config {
  host: string
  port: number
  logLevel: string
  tokenTtlSeconds: number
  /** Exact Origin allowlist for browsers. */
  allowedOrigins: string[]
  /** Set: history, presence and fan-out through this Redis; unset: in memory, one node. */
  redisUrl: string | null
  /** Signs and verifies access tokens; every node of a cluster needs the same one. Random per process by default. */
  jwtSecret: string
  /** Messages per second each user may send (per node). */
  messagesPerSecond: number
  /**
   * "Sign in with <providerName>" when OIDC_ISSUER is set (`null` otherwise): OIDC_CLIENT_ID (default `secured-chat`,
   * the dev provider's client for this example), OIDC_CLIENT_SECRET, OIDC_PROVIDER_NAME (default `the dev provider`).
   */
  oidc: (Pick<OAuth2LoginOptions, 'issuer' | 'clientId' | 'clientSecret'> & { providerName: string }) | null
}

export class ConfigError extends Error {}

function positiveInteger (env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const value = env[name]
  if (value === undefined || value === '') return fallback
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed) || parsed < min) throw new ConfigError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`)
  return parsed
}

function list (value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '')
}

export function configFromEnv (env: NodeJS.ProcessEnv, randomSecret: () => string): Config {
  const port = positiveInteger(env, 'PORT', 8000, 0)
  return {
    host: env.HOST ?? '127.0.0.1',
    port,
    logLevel: env.LOG_LEVEL ?? 'info',
    tokenTtlSeconds: positiveInteger(env, 'TOKEN_TTL_SECONDS', 900),
    allowedOrigins: list(env.ALLOWED_ORIGINS ?? `http://localhost:${port},http://127.0.0.1:${port}`),
    redisUrl: env.REDIS_URL === undefined || env.REDIS_URL === '' ? null : env.REDIS_URL,
    jwtSecret: env.JWT_SECRET ?? randomSecret(),
    messagesPerSecond: positiveInteger(env, 'MESSAGES_PER_SECOND', 20),
    oidc: env.OIDC_ISSUER === undefined || env.OIDC_ISSUER === ''
      ? null
      : {
          issuer: env.OIDC_ISSUER,
          clientId: env.OIDC_CLIENT_ID || 'secured-chat',
          clientSecret: env.OIDC_CLIENT_SECRET || undefined,
          providerName: env.OIDC_PROVIDER_NAME || 'the dev provider',
        },
  }
}

/** The ports of `start:cluster`: PORTS (comma-separated), else PORT and the one after it. */
export function clusterPorts (env: NodeJS.ProcessEnv): number[] {
  if (env.PORTS !== undefined && env.PORTS !== '') {
    const ports = list(env.PORTS).map((port) => positiveInteger({ PORTS: port }, 'PORTS', 1))
    if (ports.length < 2 || new Set(ports).size !== ports.length) throw new ConfigError('PORTS must list two or more different ports')
    return ports
  }
  const first = positiveInteger(env, 'PORT', 8000)
  return [first, first + 1]
}

/** A Redis URL fit for a log line: without its password. */
export function redisLabel (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'the REDIS_URL given'
  }
}
