import type { FastifyRequest } from 'fastify'
import { WsAuthError, decodeBasic, headerLines, parseAuthorization, type Credential } from '@wsauth/core'
import type { Extractor } from './options.js'

export const PRECEDENCE = { authorization: 100, subprotocol: 200, cookie: 300, query: 400 } as const

// The auth-scheme in front of a single Authorization value (RFC 7235 §2.1: a token, then a space or nothing).
const SCHEME = /^ *([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?: |$)/

/** `Authorization: Bearer` always; `Authorization: Basic` when enabled. Any other scheme carries no credential. */
export function authorizationExtractor (
  maxLength: number,
  basic: { tokenUsername: string } | null
): Extractor {
  return {
    transport: 'bearer',
    precedence: PRECEDENCE.authorization,
    extract (request: FastifyRequest): Credential | null {
      // `rawHeaders` shows a duplicate that `headers` would hide; @fastify/websocket's injectWS sends none.
      const rawHeaders = request.raw.rawHeaders as string[] | undefined
      const single = request.headers.authorization
      const lines = rawHeaders !== undefined ? headerLines(rawHeaders, 'authorization') : single === undefined ? [] : [single]
      // Another scheme's credentials follow that scheme's syntax (Digest's auth-params, a bare `Negotiate`), not
      // token68: they carry no credential for the guard, so they are not judged malformed either.
      const scheme = lines.length === 1 ? SCHEME.exec(lines[0]!)?.[1]?.toLowerCase() : undefined
      if (scheme !== undefined && scheme !== 'bearer' && (scheme !== 'basic' || basic === null)) return null
      const value = parseAuthorization(lines, maxLength)
      if (value === null) return null
      if (value.scheme === 'bearer') return { kind: 'token', transport: 'bearer', token: value.credentials }
      if (value.scheme === 'basic' && basic !== null) {
        const { username, password } = decodeBasic(value.credentials)
        if (username === basic.tokenUsername) {
          if (password === '') throw new WsAuthError('malformed', 'empty token')
          return { kind: 'token', transport: 'basic', token: password }
        }
        return { kind: 'password', transport: 'basic', username, password }
      }
      return null
    },
  }
}

/** `?<name>=<token>`: two parameters of the name are malformed; an empty one carries no credential. */
export function queryExtractor (name: string, maxLength: number): Extractor {
  return {
    transport: 'query',
    precedence: PRECEDENCE.query,
    extract (request: FastifyRequest): Credential | null {
      const url = request.raw.url ?? ''
      const question = url.indexOf('?')
      if (question === -1) return null
      // The query ends at a fragment, which a browser never sends: only a raw client could, to hide a token there.
      const hash = url.indexOf('#', question)
      const values = new URLSearchParams(url.slice(question + 1, hash === -1 ? undefined : hash)).getAll(name)
      if (values.length === 0) return null
      if (values.length > 1) throw new WsAuthError('malformed', 'more than one token parameter')
      const token = values[0]!
      if (token === '') return null
      if (token.length > maxLength) throw new WsAuthError('malformed', 'credential too long')
      return { kind: 'token', transport: 'query', token }
    },
  }
}
