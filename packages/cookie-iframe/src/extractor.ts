import type { FastifyRequest } from 'fastify'
import { WsAuthError, type Credential } from '@wsauth/core'
import { PRECEDENCE, type Extractor } from '@wsauth/ws-bearer'

declare module '@wsauth/core' {
  interface Transports {
    /** The session cookie set through the hidden iframe (@wsauth/cookie-iframe). */
    cookie: true
  }
}

/** RFC 6265bis §5.6: user agents keep at most 4096 bytes of a cookie's name and value together; longer ones vanish. */
export const MAX_COOKIE_BYTES = 4096

/** The session cookie's name, and its values in a Cookie header. */
export interface SessionCookie {
  name: string
  /**
   * The value of every `name=` pair in a header (a browser sends two when another path or a parent domain set one
   * too). Not percent-decoded: the plugin only ever sets token68 characters and a base64 signature.
   */
  valuesIn (header: string): string[]
}

function sessionCookie (name: string): SessionCookie {
  const pair = new RegExp(`(?:^|;)[ \\t]*${name.replace(/[$*+.^|]/g, '\\$&')}=([^;]*)`, 'g')
  return {
    name,
    // An exec loop on one regex, not `matchAll` (which clones the regex on every call: three times slower here).
    valuesIn (header) {
      const values: string[] = []
      pair.lastIndex = 0
      for (let match = pair.exec(header); match !== null; match = pair.exec(header)) values.push(match[1]!.trim())
      return values
    },
  }
}

/**
 * The session cookie for a request: `<name>` over http, `__Host-<name>` over https (a name browsers accept only on a
 * Secure, host-only, `Path=/` cookie, so no sibling subdomain can plant or overwrite it). `name` is an HTTP token, as
 * the options' check makes sure.
 */
export function sessionCookieFor (name: string): (request: FastifyRequest) => SessionCookie {
  const plain = sessionCookie(name)
  const hostOnly = sessionCookie(`__Host-${name}`)
  return (request) => (request.protocol === 'https' ? hostOnly : plain)
}

/** @fastify/cookie's `unsignCookie`: checks the signature against every key. */
type Unsign = (value: string) => { valid: boolean, value: string | null }

// Cookies whose signature checked out, so a browser that reconnects with the same cookie costs a map lookup instead
// of an HMAC (as much as verifying the token itself). The keys are fixed for the process, so a signature that was good
// stays good. Bounded: the oldest entry goes first.
const VERIFIED_COOKIES = 1024

/**
 * The cookie transport: the session cookie, signed through @fastify/cookie, carries the token. Ambient (any page can
 * make the browser send it), so the guard requires an Origin allowlist at startup and an Origin on every handshake
 * that authenticates this way.
 */
export function cookieExtractor (cookieFor: (request: FastifyRequest) => SessionCookie, unsignCookie: Unsign): Extractor {
  const verified = new Map<string, string>()
  const unsign = (signed: string): string | null => {
    const cached = verified.get(signed)
    if (cached !== undefined) return cached
    const { valid, value } = unsignCookie(signed)
    if (!valid || value === null) return null
    if (verified.size >= VERIFIED_COOKIES) verified.delete(verified.keys().next().value!)
    verified.set(signed, value)
    return value
  }
  return {
    transport: 'cookie',
    precedence: PRECEDENCE.cookie,
    ambient: true,
    requireOrigin: true,
    extract (request: FastifyRequest): Credential | null {
      const header = request.headers.cookie
      if (header === undefined) return null
      const cookie = cookieFor(request)
      const values = cookie.valuesIn(header)
      if (values.length === 0) return null
      // Which of two same-named cookies is ours is a guess (one may have been planted by a sibling host or port).
      if (values.length > 1) throw new WsAuthError('malformed', 'more than one session cookie')
      const signed = values[0]!
      // An emptied cookie (a logout the browser has not dropped yet) carries nothing.
      if (signed === '') return null
      if (cookie.name.length + 1 + signed.length > MAX_COOKIE_BYTES) throw new WsAuthError('malformed', 'credential too long')
      const token = unsign(signed)
      if (token === null) throw new WsAuthError('invalid', 'invalid session cookie')
      return { kind: 'token', transport: 'cookie', token }
    },
  }
}
