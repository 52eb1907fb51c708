// What a client needs to offer a token as a subprotocol. No Node APIs, and one import, of a module that has none
// itself: browsers load this module (`@wsauth/subprotocol-token/protocol`) through a bundler or an import map.
import { isToken } from '@wsauth/core/syntax'

/** The ways a token can ride in `Sec-WebSocket-Protocol`. */
export type SubprotocolFormat = 'jupyter' | 'kubernetes' | 'wsauth'

/**
 * Jupyter JEP 121's bare marker: a client with no application subprotocol of its own offers it next to the token, and
 * the server echoes it only when it accepted the token that came with it.
 */
export const JUPYTER_MARKER = 'v1.token.websocket.jupyter.org'

/** What comes before the token in each format (case-sensitive, as Kubernetes matches it). */
export const TOKEN_PREFIXES: Readonly<Record<SubprotocolFormat, string>> = Object.freeze({
  jupyter: `${JUPYTER_MARKER}.`,
  kubernetes: 'base64url.bearer.authorization.k8s.io.',
  wsauth: 'base64url.bearer.wsauth.',
})

export const FORMATS: readonly SubprotocolFormat[] = Object.freeze(Object.keys(TOKEN_PREFIXES) as SubprotocolFormat[])

/** The format whose prefix starts `protocol`, or `null` for an application protocol (the JEP marker included). */
export function tokenFormatOf (protocol: string): SubprotocolFormat | null {
  for (const format of FORMATS) {
    if (protocol.startsWith(TOKEN_PREFIXES[format])) return format
  }
  return null
}

/** Whether a browser would offer `protocol` and it can be echoed: a valid name that carries no token. */
export function isApplicationProtocol (protocol: string): boolean {
  // RFC 6455 §4.1: a subprotocol is an HTTP token, which is what a browser will offer.
  return isToken(protocol) && tokenFormatOf(protocol) === null
}

/** Unpadded base64url of `bytes`, with the `btoa` that browsers and Node both have. */
function base64url (bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * The subprotocol that carries `token` in `format`. Throws a TypeError for an empty token (it would carry no
 * credential), a token that is not valid Unicode text, or an unknown format.
 */
export function tokenSubprotocol (token: string, format: SubprotocolFormat): string {
  if (typeof token !== 'string' || token === '') throw new TypeError('a token subprotocol needs a non-empty token')
  if (!FORMATS.includes(format)) throw new TypeError('unknown token subprotocol format')
  const bytes = new TextEncoder().encode(token)
  // A lone surrogate has no UTF-8 form: the encoder would silently replace it, and the server would see another token.
  if (new TextDecoder().decode(bytes) !== token) throw new TypeError('a token subprotocol needs a token that is valid Unicode text')
  const encoded = format === 'jupyter'
    // encodeURIComponent leaves `(` and `)`, which are separators a browser refuses in a subprotocol.
    ? encodeURIComponent(token).replace(/\(/g, '%28').replace(/\)/g, '%29')
    : base64url(bytes)
  return TOKEN_PREFIXES[format] + encoded
}

/**
 * The full list to pass to `new WebSocket(url, protocols)`: the app's protocols (in preference order), then the
 * token protocol. A JEP 121 client with no protocol of its own offers the marker. Throws a TypeError for what a
 * browser would refuse (an invalid or duplicated name) and for a list the server would refuse (no application
 * protocol next to a Kubernetes or wsauth token, or a protocol that itself carries a token).
 */
export function subprotocolsWithToken (token: string, format: SubprotocolFormat, protocols: readonly string[] = []): string[] {
  protocols.forEach((protocol, index) => {
    // The index, not the value: a value that carries a token must not end up in an error message or a log.
    if (!isApplicationProtocol(protocol) || protocol === JUPYTER_MARKER) {
      throw new TypeError(`protocols[${index}] is not an application subprotocol`)
    }
  })
  if (new Set(protocols).size !== protocols.length) throw new TypeError('duplicated subprotocol')
  const application = protocols.length === 0 && format === 'jupyter' ? [JUPYTER_MARKER] : [...protocols]
  // The server never echoes the token protocol, and a browser fails a 101 that echoes none of the protocols it offered.
  if (application.length === 0) throw new TypeError('a token subprotocol needs an application subprotocol next to it')
  return [...application, tokenSubprotocol(token, format)]
}
