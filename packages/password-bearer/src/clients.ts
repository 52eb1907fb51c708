import { createHash, timingSafeEqual } from 'node:crypto'
import { decodeBasic, headerLines, parseAuthorization, type AuthorizationValue, type HeaderSource } from '@wsauth/core'
import { OAuthError } from './errors.js'
import { optionalParam, type Params } from './params.js'

/** A client allowed to use the endpoints. Without a secret it is a public client, identified by `client_id` alone. */
export interface ClientConfig {
  id: string
  secret?: string
}

// Digests have one length whatever the secret's, so timingSafeEqual compares them without leaking the length.
function digest (secret: string): Buffer {
  return createHash('sha256').update(secret).digest()
}

// RFC 6749 §2.3.1: the client id and secret are form-urlencoded before they are put into Basic credentials.
function formDecode (value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    throw new OAuthError('invalid_request', 'malformed client credentials')
  }
}

const FAILED = 'client authentication failed'

export class ClientRegistry {
  readonly #secrets = new Map<string, Buffer | null>()

  /** What is wrong with a `clients` option, or `null`. */
  static problem (clients: unknown): string | null {
    if (!Array.isArray(clients)) return 'must be an array of { id, secret? }'
    const ids = new Set<string>()
    for (const client of clients as Array<Partial<ClientConfig> | null>) {
      if (typeof client?.id !== 'string' || client.id === '') return 'has a client whose id is not a non-empty string'
      if (ids.has(client.id)) return `lists client ${JSON.stringify(client.id)} twice`
      if (client.secret !== undefined && (typeof client.secret !== 'string' || client.secret === '')) {
        return `gives client ${JSON.stringify(client.id)} a secret that is not a non-empty string`
      }
      ids.add(client.id)
    }
    return null
  }

  /** Clients that passed `ClientRegistry.problem`. */
  constructor (clients: readonly ClientConfig[]) {
    for (const client of clients) this.#secrets.set(client.id, client.secret === undefined ? null : digest(client.secret))
  }

  has (id: string): boolean {
    return this.#secrets.has(id)
  }

  /** A client with a secret; the others are public. */
  isConfidential (id: string): boolean {
    return this.#secrets.get(id) != null
  }

  /**
   * The authenticated client's id, from HTTP Basic or the `client_id`/`client_secret` parameters. An `Authorization`
   * header of another scheme carries no client credentials.
   */
  authenticate (request: HeaderSource, params: Params): string {
    let authorization: AuthorizationValue | null
    try {
      authorization = parseAuthorization(headerLines(request, 'authorization'), ['basic'])
    } catch {
      throw new OAuthError('invalid_request', 'malformed Authorization header')
    }
    const bodyId = optionalParam(params, 'client_id')
    const bodySecret = optionalParam(params, 'client_secret')
    let id = bodyId
    let secret = bodySecret
    if (authorization !== null) {
      // RFC 6749 §2.3: one authentication method per request.
      if (bodySecret !== undefined) throw new OAuthError('invalid_request', 'more than one client authentication method')
      let basic
      try {
        basic = decodeBasic(authorization.credentials)
      } catch {
        throw new OAuthError('invalid_request', 'malformed Authorization header')
      }
      id = formDecode(basic.username)
      secret = basic.password === '' ? undefined : formDecode(basic.password)
      if (bodyId !== undefined && bodyId !== id) throw new OAuthError('invalid_request', 'client_id does not match')
    }
    if (id === undefined || id === '') throw new OAuthError('invalid_client', 'client authentication required')
    const expected = this.#secrets.get(id)
    if (expected === undefined) throw new OAuthError('invalid_client', FAILED)
    if (expected === null) {
      // A public client has no secret; one that sends a secret is misconfigured, not authenticated.
      if (secret !== undefined) throw new OAuthError('invalid_client', FAILED)
      return id
    }
    if (secret === undefined || !timingSafeEqual(digest(secret), expected)) throw new OAuthError('invalid_client', FAILED)
    return id
  }
}
