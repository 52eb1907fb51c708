import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createDevIdp, signingKeys, type ApiResource, type ClientMetadata, type DevIdp, type JWK } from '../../examples/dev-idp/src/idp.ts'

/** The slice of tap's `t` the helpers need. */
export interface Teardown { teardown (fn: () => unknown): void }

/** The test app's client at the provider: public, PKCE, any loopback port (RFC 8252 §7.3). */
export const APP_CLIENT: ClientMetadata = {
  client_id: 'test-app',
  client_name: 'test app',
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1:1/login/oidc/callback'],
}

/** A confidential machine client for `client_credentials` access tokens. */
export const MACHINE = { id: 'test-machine', secret: 'test-machine-secret-long-enough' }

const MACHINE_CLIENT: ClientMetadata = {
  client_id: MACHINE.id,
  client_secret: MACHINE.secret,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'chat',
}

/** One API per algorithm, for access tokens of each kind. */
export const APIS: Record<string, ApiResource> = {
  'urn:test:rs256': { scope: 'chat', alg: 'RS256' },
  'urn:test:es256': { scope: 'chat', alg: 'ES256' },
  'urn:test:eddsa': { scope: 'chat', alg: 'EdDSA' },
}

export interface IdpSetup {
  clients?: ClientMetadata[]
  keys?: JWK[]
}

/** Rewrites the token endpoint's JSON answer: how a test plays a provider that misbehaves. */
export type TokenResponseTamper = (body: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>

export interface RunningIdp {
  issuer: string
  jwksUri: string
  /** The private signing keys it uses now (the first of each algorithm signs). */
  keys: JWK[]
  /** Set to rewrite what its token endpoint answers; `null` (default) to leave it. */
  tamper: TokenResponseTamper | null
  /** Set to make its JWKS endpoint answer 503 while everything else works. */
  keysDown: boolean
  /** Stops answering: the port refuses connections. */
  stop (): Promise<void>
  /** Starts again on the same port (a new provider, its sessions gone), with other keys when given. */
  start (keys?: JWK[]): Promise<void>
  /** A JWT access token for one of `APIS`, from the `client_credentials` grant. */
  accessToken (resource: string): Promise<string>
}

/**
 * examples/dev-idp's provider (panva's oidc-provider, with its own sign-in pages), in this process, on a free port of
 * 127.0.0.1; stopped in `t.teardown`.
 */
export async function startIdp (t: Teardown, setup: IdpSetup = {}): Promise<RunningIdp> {
  let server: Server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}`
  const clients = setup.clients ?? [APP_CLIENT, MACHINE_CLIENT]

  const mount = (keys: JWK[]): DevIdp => {
    const idp = createDevIdp({ issuer, clients, keys, apis: APIS })
    idp.provider.use(async (ctx, next) => {
      if (running.keysDown && ctx.path === '/jwks') {
        ctx.status = 503
        return
      }
      await next()
      if (running.tamper !== null && ctx.path === '/token' && ctx.status === 200) {
        ctx.body = await running.tamper(ctx.body as Record<string, unknown>)
      }
    })
    return idp
  }

  const running: RunningIdp = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    keys: setup.keys ?? signingKeys(),
    tamper: null,
    keysDown: false,
    async stop () {
      if (!server.listening) return
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
    async start (keys) {
      if (keys !== undefined) running.keys = keys
      server = createServer(mount(running.keys).listener)
      server.listen(port, '127.0.0.1')
      await once(server, 'listening')
    },
    async accessToken (resource) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${MACHINE.id}:${MACHINE.secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'chat' }),
      })
      const body = await response.json() as { access_token?: string }
      if (typeof body.access_token !== 'string') throw new Error(`no access token: ${JSON.stringify(body)}`)
      return body.access_token
    },
  }
  server.on('request', mount(running.keys).listener)
  t.teardown(() => running.stop())
  return running
}

/** Cookies by host name, as a browser keeps them (ports share them); paths and expiry are left out. */
export class CookieJar {
  readonly #hosts = new Map<string, Map<string, string>>()

  #host (url: string | URL): Map<string, string> {
    const { hostname } = new URL(url)
    let cookies = this.#hosts.get(hostname)
    if (cookies === undefined) this.#hosts.set(hostname, cookies = new Map())
    return cookies
  }

  header (url: string | URL): string {
    return [...this.#host(url)].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  get (url: string | URL, name: string): string | undefined {
    return this.#host(url).get(name)
  }

  set (url: string | URL, name: string, value: string | undefined): void {
    if (value === undefined) this.#host(url).delete(name)
    else this.#host(url).set(name, value)
  }

  /** The cookies of one host, to put back later (a replay). */
  copy (url: string | URL): Map<string, string> {
    return new Map(this.#host(url))
  }

  restore (url: string | URL, cookies: Map<string, string>): void {
    const host = this.#host(url)
    host.clear()
    for (const [name, value] of cookies) host.set(name, value)
  }

  store (url: string | URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const equals = pair.indexOf('=')
      const name = pair.slice(0, equals).trim()
      const value = pair.slice(equals + 1).trim()
      const expired = /;\s*max-age=0/i.test(line) || /;\s*expires=Thu, 01 Jan 1970/i.test(line) || value === ''
      this.set(url, name, expired ? undefined : value)
    }
  }
}

/** One request with the jar's cookies, redirects not followed. */
export async function send (jar: CookieJar, url: string | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  const cookie = jar.header(url)
  if (cookie !== '') headers.set('cookie', cookie)
  const response = await fetch(url, { ...init, headers, redirect: 'manual' })
  jar.store(url, response)
  return response
}

/**
 * Follows redirects from `url` until a response is not a redirect, or the next location is on `stopAt`'s path; resolves
 * the last URL and (unless stopped) its response.
 */
export async function follow (jar: CookieJar, url: string | URL, stopAt?: string): Promise<{ url: URL, response: Response | null }> {
  let current = new URL(url)
  for (let hops = 0; hops < 20; hops++) {
    if (stopAt !== undefined && current.pathname === stopAt) return { url: current, response: null }
    const response = await send(jar, current)
    const location = response.headers.get('location')
    if (response.status < 300 || response.status >= 400 || location === null) return { url: current, response }
    await response.body?.cancel()
    current = new URL(location, current)
  }
  throw new Error('too many redirects')
}

export interface ProviderSignIn {
  username?: string
  password?: string
  /** What the user does on the consent page. Default `allow`. */
  consent?: 'allow' | 'deny'
}

/**
 * A person at the provider, without a browser: from the app's start URL through the provider's sign-in and consent
 * pages, to the URL the provider sends the browser back to (not requested: the test does that).
 */
export async function signInAtProvider (
  jar: CookieJar, startUrl: string, callbackPath: string, person: ProviderSignIn = {}
): Promise<URL> {
  let { url, response } = await follow(jar, startUrl, callbackPath)
  for (let pages = 0; response !== null && pages < 4; pages++) {
    const html = await response.text()
    const uid = /\/interaction\/([^/"]+)\/login"/.exec(html)?.[1] ?? /\/interaction\/([^/"]+)\/confirm"/.exec(html)?.[1]
    if (uid === undefined) throw new Error(`unexpected page at ${url.href} (${response.status})`)
    const step = html.includes('/login"')
      ? { path: 'login', body: new URLSearchParams({ username: person.username ?? 'alice', password: person.password ?? 'wonderland' }) }
      : { path: person.consent === 'deny' ? 'abort' : 'confirm', body: new URLSearchParams() }
    const posted = await send(jar, new URL(`/interaction/${uid}/${step.path}`, url), { method: 'POST', body: step.body })
    const location = posted.headers.get('location')
    if (location === null) throw new Error(`the provider answered ${posted.status} to ${step.path}: ${await posted.text()}`)
    ;({ url, response } = await follow(jar, new URL(location, url), callbackPath))
  }
  if (response !== null) throw new Error('the provider never sent the browser back')
  return url
}
