import type { FastifyRequest } from 'fastify'
import { WsAuthError, decodeBasic, headerLines, parseAuthorization, type Credential, type DiscoveryTransports } from '@wsauth/core'
import type { Extractor } from './options.js'

export const PRECEDENCE = { authorization: 100, subprotocol: 200, cookie: 300, ticket: 350, query: 400 } as const

const BEARER = ['bearer']
const BEARER_AND_BASIC = ['bearer', 'basic']

/**
 * `Authorization: Bearer` always; `Authorization: Basic` when enabled (with real passwords when `verifyPassword` is
 * given). Any other scheme carries no credential.
 */
export function authorizationExtractor (basic: { tokenUsername: string, verifyPassword?: unknown } | null): Extractor {
  const schemes = basic === null ? BEARER : BEARER_AND_BASIC
  const described: Partial<DiscoveryTransports> = basic === null
    ? { bearer: {} }
    : { bearer: {}, basic: { tokenUsername: basic.tokenUsername, password: basic.verifyPassword !== undefined } }
  return {
    transport: 'bearer',
    precedence: PRECEDENCE.authorization,
    extract (request: FastifyRequest): Credential | null {
      const value = parseAuthorization(headerLines(request.raw, 'authorization'), schemes)
      if (value === null) return null
      if (value.scheme === 'bearer') return { kind: 'token', transport: 'bearer', token: value.credentials }
      const { username, password } = decodeBasic(value.credentials)
      if (username === basic!.tokenUsername) {
        if (password === '') throw new WsAuthError('malformed', 'empty token')
        return { kind: 'token', transport: 'basic', token: password }
      }
      return { kind: 'password', transport: 'basic', username, password }
    },
    describe: () => described,
  }
}

/**
 * Every value of the query parameter `name` in a request's URL. The query is what lies between the first `?` and the
 * first `#` (RFC 3986 §3.4): a `?` after a `#` starts no query. A browser never sends a fragment; only a raw client
 * could, to hide a credential there.
 */
export function queryValues (request: FastifyRequest, name: string): string[] {
  const url = request.raw.url ?? ''
  const question = url.indexOf('?')
  if (question === -1) return []
  const hash = url.indexOf('#')
  if (hash !== -1 && hash < question) return []
  return new URLSearchParams(url.slice(question + 1, hash === -1 ? undefined : hash)).getAll(name)
}

/** `?<name>=<token>`: two parameters of the name are malformed; an empty one carries no credential. */
export function queryExtractor (name: string): Extractor {
  return {
    transport: 'query',
    precedence: PRECEDENCE.query,
    extract (request: FastifyRequest): Credential | null {
      const values = queryValues(request, name)
      if (values.length === 0) return null
      if (values.length > 1) throw new WsAuthError('malformed', 'more than one token parameter')
      const token = values[0]!
      if (token === '') return null
      return { kind: 'token', transport: 'query', token }
    },
    describe: () => ({ query: { param: name } }),
  }
}
