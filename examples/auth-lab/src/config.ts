/** auth-lab's settings, from the environment. */
export interface Config {
  host: string
  /** The page's port (LAB_PORT_BASE, default 8000); the method apps listen on the next six. */
  portBase: number
  logLevel: string
  tokenTtlSeconds: number
  /** Signs and verifies access tokens on every origin; a random one per process unless JWT_SECRET is set. */
  jwtSecret: string
  /** Signs the cookie app's session cookie; random per process unless COOKIE_SECRETS is set. */
  cookieSecrets: string[]
}

/** The highest port a lab can start at: the page and six apps fit below 65536. */
export const MAX_PORT_BASE = 65535 - 6

function integer (value: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (value === undefined || value === '') return fallback
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return parsed
}

export function configFromEnv (env: NodeJS.ProcessEnv, randomSecret: () => string): Config {
  return {
    host: env.HOST ?? '127.0.0.1',
    portBase: integer(env.LAB_PORT_BASE, 8000, 'LAB_PORT_BASE', 1, MAX_PORT_BASE),
    logLevel: env.LOG_LEVEL ?? 'info',
    tokenTtlSeconds: integer(env.TOKEN_TTL_SECONDS, 900, 'TOKEN_TTL_SECONDS', 1, Number.MAX_SAFE_INTEGER),
    jwtSecret: env.JWT_SECRET ?? randomSecret(),
    cookieSecrets: (env.COOKIE_SECRETS ?? randomSecret()).split(',').map((secret) => secret.trim()).filter((secret) => secret !== ''),
  }
}

/**
 * The page's origins: `localhost` is the lab's own site; `127.0.0.1` is the same server under another site, for the
 * cross-site row. Every app allows both, so what stops a cross-site cookie is the browser, not the Origin check.
 */
export function pageOrigins (config: Config): { sameSite: string, crossSite: string } {
  return { sameSite: `http://localhost:${config.portBase}`, crossSite: `http://127.0.0.1:${config.portBase}` }
}
