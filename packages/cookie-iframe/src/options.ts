import { OriginAllowlist, WsAuthOptionsError, isToken, readOptions } from '@wsauth/core'

export const PLUGIN = '@wsauth/cookie-iframe'

export interface CookieIframeOptions {
  /** Where the routes live on the WebSocket server: `<prefix>/iframe`, `<prefix>/session`, … Default `/ws-auth`. */
  prefix?: string
  /**
   * Signing key(s) for the cookie, when the app has not registered @fastify/cookie itself (then configure the secret
   * there). An array rotates keys: the first signs, every one verifies.
   */
  secret?: CookieSecret
  /** Origins that may embed the iframe and post it a token (exact match). Default: the guard's `origins`. */
  parentOrigins?: string[]
  /** The cookie's name; over https it is sent as `__Host-<name>`. Default `wsauth`. */
  cookieName?: string
  /** Realm in `WWW-Authenticate` on `POST <prefix>/session`. Default `wsauth`. */
  realm?: string
}

export type CookieSecret = string | string[] | Buffer | Buffer[]

/** The options after their startup checks. */
export interface CheckedOptions {
  prefix: string
  secret: CookieSecret | undefined
  /** `null`: the guard's allowlist. */
  parentOrigins: OriginAllowlist | null
  cookieName: string
  realm: string
}

const KNOWN = ['prefix', 'secret', 'parentOrigins', 'cookieName', 'realm']

function isKey (key: unknown): key is string | Buffer {
  return (typeof key === 'string' || Buffer.isBuffer(key)) && key.length > 0
}

/** An error naming one of this plugin's options, for checks that need more than the options themselves. */
export function optionError (option: string, problem: string): WsAuthOptionsError {
  return new WsAuthOptionsError(PLUGIN, option, problem)
}

/** Every mistake in the options is a startup error whose message names the option (core's `readOptions`). */
export function checkOptions (options: unknown): CheckedOptions {
  const reader = readOptions(PLUGIN, options, KNOWN)

  const prefix = reader.path('prefix', '/ws-auth')
  if (prefix.endsWith('/')) throw reader.error('prefix', 'must not end with "/" (the routes are <prefix>/iframe, <prefix>/session, …)')

  const secret = reader.raw('secret')
  if (secret !== undefined && !(Array.isArray(secret) ? secret.length > 0 && secret.every(isKey) : isKey(secret))) {
    throw reader.error('secret', 'must be a non-empty string or Buffer, or a non-empty array of them')
  }

  const parents = reader.stringList('parentOrigins')
  if (parents?.length === 0) throw reader.error('parentOrigins', 'must name at least one origin')
  let parentOrigins: OriginAllowlist | null = null
  try {
    if (parents !== undefined) parentOrigins = new OriginAllowlist(parents)
  } catch (error) {
    throw reader.error('parentOrigins', `must hold exact origins: ${(error as Error).message}`)
  }

  const cookieName = reader.string('cookieName', 'wsauth')
  // RFC 6265 §4.1.1: a cookie name is an HTTP token.
  if (!isToken(cookieName)) {
    throw reader.error('cookieName', 'must be a cookie name: letters, digits and !#$%&\'*+-.^_`|~ only')
  }

  return { prefix, secret: secret as CookieSecret | undefined, parentOrigins, cookieName, realm: reader.string('realm', 'wsauth') }
}
