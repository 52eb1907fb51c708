import Fastify, { type FastifyInstance } from 'fastify'
import fastifyOauth2, { type FastifyOAuth2Options, type OAuth2Namespace } from '@fastify/oauth2'
import type { Clock } from '@wsauth/core'
import { RemoteKeySet, UpstreamError, fetchJson } from '@wsauth/ws-bearer'

/** The parts of a provider's OpenID configuration a sign-in uses. */
export interface ProviderMetadata {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  jwks_uri: string
}

/** What @fastify/oauth2 needs besides the endpoints: the app's client, cookies and state functions. */
export type OAuth2ClientOptions = Omit<FastifyOAuth2Options, 'name' | 'discovery' | 'credentials' | 'startRedirectPath'> & {
  clientId: string
  clientSecret: string | undefined
}

/** A provider whose configuration was fetched: its @fastify/oauth2 client and its keys. */
export interface ConnectedProvider {
  metadata: ProviderMetadata
  oauth2: OAuth2Namespace
  keys: RemoteKeySet
}

export interface ProviderOptions {
  issuer: string
  client: OAuth2ClientOptions
  timeoutMs: number
  /** The least time between two attempts to fetch the configuration after one failed. */
  cooldownMs: number
  clock: Clock
  /** Told of every failed fetch (configuration or keys), for a one-line log. */
  onFailure: (error: UpstreamError) => void
}

const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const

/** RFC 8414 §3.3 / OpenID Connect Discovery §4.3: the configuration names exactly the issuer it was fetched for. */
function readMetadata (document: unknown, issuer: string, url: string): ProviderMetadata {
  const metadata = document as Partial<Record<string, unknown>> | null
  if (metadata === null || typeof metadata !== 'object' || metadata.issuer !== issuer) {
    throw new UpstreamError('bad_response', `${url}: not the configuration of ${issuer}`)
  }
  for (const endpoint of ENDPOINTS) {
    if (typeof metadata[endpoint] !== 'string' || !/^https?:\/\//.test(metadata[endpoint])) {
      throw new UpstreamError('bad_response', `${url}: no ${endpoint}`)
    }
  }
  return metadata as unknown as ProviderMetadata
}

function endpoint (url: string): { host: string, path: string } {
  const parsed = new URL(url)
  return { host: parsed.origin, path: parsed.pathname + parsed.search }
}

/**
 * An OpenID Connect provider, connected on first use and kept: the configuration is fetched from the issuer, then
 * @fastify/oauth2 is set up with its endpoints. @fastify/oauth2's own discovery runs once, at registration, and fails
 * the app's startup when the provider is down; here a provider that is down only fails sign-ins (and is asked again
 * after `cooldownMs`), while the app starts and serves everything else.
 *
 * @fastify/oauth2 is registered on a Fastify instance of its own that never listens: Fastify takes plugins only before
 * it starts, and the endpoints are known only once the provider answers. Its functions work on the app's requests.
 */
export class Provider {
  readonly #options: ProviderOptions
  #connected: Promise<ConnectedProvider> | null = null
  #failedAt = -Infinity
  #lastFailure: UpstreamError | null = null
  #holder: FastifyInstance | null = null

  constructor (options: ProviderOptions) {
    this.#options = options
  }

  get discoveryUrl (): string {
    return `${this.#options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  }

  /** Seconds until the next attempt after a failure; 0 when one may be made now. */
  retryAfter (): number {
    const wait = this.#failedAt + this.#options.cooldownMs - this.#options.clock()
    return wait > 0 ? Math.ceil(wait / 1000) : 0
  }

  /** The connected provider; rejects with an `UpstreamError` while it cannot be reached. */
  connect (): Promise<ConnectedProvider> {
    if (this.#connected !== null) return this.#connected
    if (this.#lastFailure !== null && this.retryAfter() > 0) return Promise.reject(this.#lastFailure)
    const connecting = this.#connect()
    this.#connected = connecting
    connecting.catch((error: UpstreamError) => {
      this.#connected = null
      this.#failedAt = this.#options.clock()
      this.#lastFailure = error
      this.#options.onFailure(error)
    })
    return connecting
  }

  async close (): Promise<void> {
    await this.#holder?.close()
  }

  async #connect (): Promise<ConnectedProvider> {
    const { issuer, client, timeoutMs, clock, onFailure } = this.#options
    const url = this.discoveryUrl
    const metadata = readMetadata(await fetchJson(url, timeoutMs), issuer, url)
    const authorize = endpoint(metadata.authorization_endpoint)
    const token = endpoint(metadata.token_endpoint)
    const { clientId, clientSecret, ...oauth2Options } = client
    const holder = Fastify({ logger: false })
    await holder.register(fastifyOauth2, {
      ...oauth2Options,
      name: 'provider',
      credentials: {
        // A public client has no secret: it sends its id in the body and proves itself with PKCE.
        client: { id: clientId, secret: clientSecret ?? '' },
        auth: { authorizeHost: authorize.host, authorizePath: authorize.path, tokenHost: token.host, tokenPath: token.path },
        options: { authorizationMethod: clientSecret === undefined ? 'body' : 'header' },
        http: { timeout: timeoutMs },
      },
      pkce: 'S256',
    })
    await holder.ready()
    this.#holder = holder
    const oauth2 = (holder as unknown as { provider: OAuth2Namespace }).provider
    const keys = new RemoteKeySet(metadata.jwks_uri, { timeoutMs, clock, onFetchError: onFailure })
    return { metadata, oauth2, keys }
  }
}
