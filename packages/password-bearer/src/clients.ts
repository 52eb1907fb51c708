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

  constructor (clients: readonly ClientConfig[]) {
    if (!Array.isArray(clients)) throw new TypeError('clients must be an array')
    for (const client of clients) {
      if (typeof client?.id !== 'string' || client.id === '') throw new TypeError('a client id must be a non-empty string')
      if (this.#secrets.has(client.id)) throw new TypeError(`client ${JSON.stringify(client.id)} is listed twice`)
      if (client.secret !== undefined && (typeof client.secret !== 'string' || client.secret === '')) {
        throw new TypeError(`the secret of client ${JSON.stringify(client.id)} must be a non-empty string`)
      }
      this.#secrets.set(client.id, client.secret === undefined ? null : digest(client.secret))
    }
  }

  has (id: string): boolean {
    return this.#secrets.has(id)
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
