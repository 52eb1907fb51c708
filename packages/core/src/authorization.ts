import { WsAuthError } from './outcome.js'

/** Default cap on a credential's length, in characters. */
export const DEFAULT_MAX_CREDENTIAL_LENGTH = 4096

export interface AuthorizationValue {
  /** Lowercased auth-scheme (schemes are case-insensitive, RFC 7235 §2.1). */
  scheme: string
  /** The token68 credentials, exactly as sent. */
  credentials: string
}

export interface BasicCredentials {
  username: string
  password: string
}

// RFC 7235: auth-scheme = token; credentials = token68 (we accept no auth-param lists: neither Bearer nor Basic uses them).
const AUTHORIZATION = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) +([A-Za-z0-9\-._~+/]+=*)$/
const SCHEME_ONLY = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ *$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
// RFC 7617 §2: user-id and password exclude control characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * All lines of one header, from `rawHeaders` (Node keeps only the first `Authorization` in `headers`, which would
 * hide a duplicate).
 */
export function headerLines (rawHeaders: readonly string[], name: string): string[] {
  const lines: string[] = []
  const lower = name.toLowerCase()
  for (let i = 0; i < rawHeaders.length - 1; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === lower) lines.push(rawHeaders[i + 1]!)
  }
  return lines
}

/**
 * Parses the `Authorization` header lines of a request. No header: `null`. Two headers, a scheme without
 * credentials, credentials that are not token68, or credentials over the length cap: a `malformed` error.
 */
export function parseAuthorization (
  lines: readonly string[],
  maxLength: number = DEFAULT_MAX_CREDENTIAL_LENGTH
): AuthorizationValue | null {
  if (lines.length === 0) return null
  if (lines.length > 1) throw new WsAuthError('malformed', 'more than one Authorization header')
  const value = lines[0]!.trim()
  const match = AUTHORIZATION.exec(value)
  if (match === null) {
    throw new WsAuthError('malformed', SCHEME_ONLY.test(value) ? 'missing credentials' : 'malformed Authorization header')
  }
  // The cap is on the credential itself (as for every other transport), not on the scheme in front of it.
  if (match[2]!.length > maxLength) throw new WsAuthError('malformed', 'credential too long')
  return { scheme: match[1]!.toLowerCase(), credentials: match[2]! }
}

/** Decodes Basic credentials (RFC 7617): strict base64, UTF-8, a `:` between user-id and password. */
export function decodeBasic (credentials: string): BasicCredentials {
  if (!BASE64.test(credentials)) throw new WsAuthError('malformed', 'Basic credentials are not base64')
  let decoded: string
  try {
    decoded = utf8.decode(Buffer.from(credentials, 'base64'))
  } catch {
    throw new WsAuthError('malformed', 'Basic credentials are not UTF-8')
  }
  const colon = decoded.indexOf(':')
  if (colon === -1) throw new WsAuthError('malformed', 'Basic credentials have no colon')
  if (CONTROL.test(decoded)) throw new WsAuthError('malformed', 'Basic credentials contain control characters')
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** Encodes Basic credentials for a client (the inverse of `decodeBasic`). */
export function encodeBasic (username: string, password: string): string {
  if (username.includes(':')) throw new TypeError('a Basic username cannot contain ":"')
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64')
}
