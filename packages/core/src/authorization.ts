import { WsAuthError } from './outcome.js'
import { isToken, isToken68 } from './syntax.js'

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

/** The header fields of a request: Node's `IncomingMessage`, or a request built by hand. */
export interface HeaderSource {
  /** Every header line as sent, names and values alternating; absent on a request built by hand (`injectWS`). */
  readonly rawHeaders?: readonly string[]
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
// RFC 7617 §2: user-id and password exclude control characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Every line of one header field, in order. Read from `rawHeaders`, because Node keeps only the first `Authorization`
 * in `headers` and joins other fields' lines, which would hide a duplicate; a request without `rawHeaders` has only
 * `headers` to give.
 */
export function headerLines (message: HeaderSource, name: string): string[] {
  const lower = name.toLowerCase()
  const raw = message.rawHeaders
  if (raw === undefined) {
    const value = message.headers[lower]
    return value === undefined ? [] : Array.isArray(value) ? [...value] : [value]
  }
  const lines: string[] = []
  for (let i = 0; i < raw.length - 1; i += 2) {
    if (raw[i]!.toLowerCase() === lower) lines.push(raw[i + 1]!)
  }
  return lines
}

/**
 * Parses the `Authorization` header lines of a request for the schemes a caller accepts (lowercase names). No header,
 * or a header of another scheme: `null`, whatever that scheme's own syntax (Digest's auth-params, a bare `Negotiate`):
 * it carries no credential for this caller. Two headers, an accepted scheme without credentials or with credentials
 * that are not token68, or a first word that is no scheme at all: a `malformed` error.
 */
export function parseAuthorization (lines: readonly string[], schemes: readonly string[]): AuthorizationValue | null {
  if (lines.length === 0) return null
  if (lines.length > 1) throw new WsAuthError('malformed', 'more than one Authorization header')
  // RFC 7235 §2.1: credentials = auth-scheme [ 1*SP token68 ].
  const value = lines[0]!.trim()
  const space = value.indexOf(' ')
  const name = space === -1 ? value : value.slice(0, space)
  if (!isToken(name)) throw new WsAuthError('malformed', 'malformed Authorization header')
  const scheme = name.toLowerCase()
  if (!schemes.includes(scheme)) return null
  let start = space + 1
  while (start > 0 && value[start] === ' ') start++
  const credentials = space === -1 ? '' : value.slice(start)
  if (credentials === '') throw new WsAuthError('malformed', 'missing credentials')
  if (!isToken68(credentials)) throw new WsAuthError('malformed', 'malformed Authorization header')
  return { scheme, credentials }
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
