// The server's side of a subprotocol offer: parsing the request's header and choosing the protocol to echo.
import { WsAuthError, isToken } from '@wsauth/core'
import { JUPYTER_MARKER, TOKEN_PREFIXES, isApplicationProtocol, tokenFormatOf, type SubprotocolFormat } from './protocol.js'

const BASE64URL = /^[A-Za-z0-9_-]*$/
const STRAY_PERCENT = /%(?![0-9A-Fa-f]{2})/
const utf8 = new TextDecoder('utf-8', { fatal: true })

function decodeToken (format: SubprotocolFormat, encoded: string): string {
  if (format === 'jupyter') {
    // encodeURIComponent output: subprotocol characters, with `%` only in front of two hex digits.
    if (encoded !== '' && (!isToken(encoded) || STRAY_PERCENT.test(encoded))) throw new WsAuthError('malformed', 'token subprotocol is not percent-encoded')
    try {
      // The syntax is checked above, so the only way left to fail is bytes that are not UTF-8.
      return decodeURIComponent(encoded)
    } catch {
      throw new WsAuthError('malformed', 'token subprotocol is not UTF-8')
    }
  }
  // Unpadded base64url, canonical: a length of 4n+1 or set unused bits would decode by guesswork.
  const bytes = BASE64URL.test(encoded) && encoded.length % 4 !== 1 ? Buffer.from(encoded, 'base64url') : null
  if (bytes === null || bytes.toString('base64url') !== encoded) {
    throw new WsAuthError('malformed', 'token subprotocol is not base64url')
  }
  try {
    return utf8.decode(bytes)
  } catch {
    throw new WsAuthError('malformed', 'token subprotocol is not UTF-8')
  }
}

/** A request's `Sec-WebSocket-Protocol` as this plugin reads it: what may be echoed, and the token. */
export interface ParsedOffer {
  /** The offered protocols that carry no token, in the client's order: what may be echoed. */
  protocols: readonly string[]
  /** The token of an enabled format, decoded; `null` when none was offered or it was empty. */
  token: { format: SubprotocolFormat, value: string } | null
  /** Why the header is malformed (the guard answers 400 / 4400); `null` when it is not. */
  error: WsAuthError | null
}

/**
 * Reads the guard's parse of the header: `protocols`, the offered protocols no transport claimed, and `tokenProtocols`,
 * those of this plugin's prefixes. Token protocols of every format are claimed whether or not their format is enabled,
 * so none is ever echoed; only enabled formats carry a credential.
 */
export function parseOffer (
  protocols: readonly string[], tokenProtocols: readonly string[], formats: ReadonlySet<SubprotocolFormat>
): ParsedOffer {
  // Duplicates are looked up here, not in `protocols`: a 16 KB header holds thousands of names. The first problem is
  // the answer, and each loop stops there: an error per name (a stack trace each) made a header of 15,000 empty names
  // cost the server a few hundred milliseconds.
  const seen = new Set<string>()
  let tokens = 0
  let token: ParsedOffer['token'] = null
  let error: WsAuthError | null = null
  const fail = (reason: WsAuthError): void => { error ??= reason }

  for (const protocol of protocols) {
    if (!isApplicationProtocol(protocol) || seen.has(protocol)) {
      fail(new WsAuthError('malformed', 'malformed Sec-WebSocket-Protocol header'))
      break
    }
    seen.add(protocol)
  }
  for (const protocol of tokenProtocols) {
    const format = tokenFormatOf(protocol)!
    if (!formats.has(format)) continue
    if (++tokens > 1) {
      fail(new WsAuthError('malformed', 'more than one token subprotocol'))
      break
    }
    try {
      const value = decodeToken(format, protocol.slice(TOKEN_PREFIXES[format].length))
      // An empty token carries no credential, as an empty `?token=` does: the other transports are tried.
      if (value !== '') token = { format, value }
    } catch (thrown) {
      fail(thrown as WsAuthError)
    }
  }
  return { protocols, token: error === null ? token : null, error }
}

/**
 * The one protocol the 101 echoes: the first offer the route supports, or the JEP marker when a token was accepted
 * through it. `false` when there is none, and then the 101 names no protocol (RFC 6455 §4.2.2).
 */
export function selectProtocol (
  offered: readonly string[],
  supported: readonly string[],
  markerAccepted: boolean
): string | false {
  for (const protocol of offered) {
    if (protocol === JUPYTER_MARKER ? markerAccepted : supported.includes(protocol)) return protocol
  }
  return false
}
