import { createHash, generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import Provider, { errors, type ClientMetadata, type Configuration, type JWK, type ResourceServer } from 'oidc-provider'
import { consentPage, errorPage, loginPage } from './pages.js'

export type { ClientMetadata, JWK }

export interface DevUser {
  username: string
  password: string
  /** OpenID claims besides `sub` (which is the username). */
  claims: Record<string, unknown>
  /** The resource scopes the user may grant (`chat`). */
  scopes: string[]
}

export const ALICE: DevUser = {
  username: 'alice',
  password: 'wonderland',
  claims: { name: 'Alice Liddell', preferred_username: 'alice', email: 'alice@example.test', email_verified: true },
  scopes: ['chat'],
}

export type SigningAlgorithm = 'RS256' | 'ES256' | 'EdDSA'

/** A fresh private signing key as a JWK, with a random `kid`. */
export function signingKey (alg: SigningAlgorithm): JWK {
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')
  return { ...privateKey.export({ format: 'jwk' }), kid: `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`, alg, use: 'sig' } as JWK
}

/** One key of each algorithm the examples use. The first RS256 key signs ID tokens. */
export function signingKeys (): JWK[] {
  return [signingKey('RS256'), signingKey('ES256'), signingKey('EdDSA')]
}

/** An API that takes JWT access tokens from this provider (RFC 8707 resource indicator → settings). */
export interface ApiResource {
  /** Scopes the API knows, space-separated. */
  scope: string
  /** Access token lifetime in seconds. Default 600. */
  ttlSeconds?: number
  /** Default RS256. */
  alg?: SigningAlgorithm
}

export interface DevIdpOptions {
  /** The issuer identifier: the provider's own base URL, no trailing slash. */
  issuer: string
  clients: ClientMetadata[]
  users?: DevUser[]
  /** Private signing keys (JWKs). Default: `signingKeys()`, new at every start. */
  keys?: JWK[]
  /** APIs that get JWT access tokens, by resource indicator. */
  apis?: Record<string, ApiResource>
}

export interface DevIdp {
  provider: Provider
  /** A Node request listener: the provider's endpoints and its sign-in and consent pages. */
  listener (request: IncomingMessage, response: ServerResponse): void
}

const SCOPE_WORDS: Record<string, string> = {
  openid: 'know who you are',
  profile: 'see your name and username',
  email: 'see your email address',
  offline_access: 'stay signed in',
}

function sameSecret (given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(given), digest(expected))
}

async function formBody (request: IncomingMessage): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of request) {
    body += String(chunk)
    if (body.length > 8192) throw new Error('form too large')
  }
  return new URLSearchParams(body)
}

function sendHtml (response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // No form-action: Chromium applies it to the redirects after a form, and consent ends in one to the application.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  })
  response.end(html)
}

/** An OpenID Connect provider (panva's oidc-provider) with in-memory storage and its own sign-in pages. */
export function createDevIdp (options: DevIdpOptions): DevIdp {
  const users = new Map((options.users ?? [ALICE]).map((user) => [user.username, user]))
  const apis = options.apis ?? {}
  const configuration: Configuration = {
    clients: options.clients,
    jwks: { keys: options.keys ?? signingKeys() },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'profile', 'email', ...new Set(Object.values(apis).flatMap((api) => api.scope.split(' ')))],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'] },
    // Profile claims in the ID token itself: the examples sign people in with it and ask for nothing else.
    conformIdTokenClaims: false,
    pkce: { methods: ['S256'], required: () => true },
    async findAccount (_ctx, id) {
      const user = users.get(id)
      return user === undefined ? undefined : { accountId: id, claims: async () => ({ sub: id, ...user.claims }) }
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? [],
        useGrantedResource: () => true,
        getResourceServerInfo (_ctx, indicator): ResourceServer {
          const api = apis[indicator]
          if (api === undefined) throw new errors.InvalidTarget()
          return {
            scope: api.scope,
            audience: indicator,
            accessTokenTTL: api.ttlSeconds ?? 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: api.alg ?? 'RS256' } },
          }
        },
      },
    },
    async renderError (ctx, out) {
      ctx.type = 'html'
      ctx.body = errorPage('Sign-in failed', String(out.error_description ?? out.error))
    },
  }
  const provider = new Provider(options.issuer, configuration)
  // Composed at the first request, so that middleware added with `provider.use` after this function is included.
  let providerListener: ReturnType<typeof provider.callback> | null = null

  async function interaction (request: IncomingMessage, response: ServerResponse, step: string | undefined): Promise<void> {
    const details = await provider.interactionDetails(request, response)
    const client = await provider.Client.find(String(details.params.client_id))
    const clientName = client?.clientName ?? String(details.params.client_id)
    const uid = details.uid
    if (request.method === 'GET' && step === undefined) {
      if (details.prompt.name === 'login') return sendHtml(response, 200, loginPage({ uid, clientName }))
      return sendHtml(response, 200, consentPage({ uid, clientName, username: details.session?.accountId ?? '', requests: requestsOf(details) }))
    }
    if (request.method !== 'POST') return sendHtml(response, 405, errorPage('Not allowed', 'Use the buttons on the page.'))
    if (step === 'abort') {
      return await provider.interactionFinished(request, response, { error: 'access_denied', error_description: 'the user declined' })
    }
    if (step === 'login') {
      const form = await formBody(request)
      const username = form.get('username') ?? ''
      const user = users.get(username)
      // A wrong username costs what a wrong password does.
      const matches = sameSecret(form.get('password') ?? '', user?.password ?? randomUUID())
      if (user === undefined || !matches) {
        return sendHtml(response, 401, loginPage({ uid, clientName, username, error: 'Wrong username or password.' }))
      }
      return await provider.interactionFinished(request, response, { login: { accountId: user.username } }, { mergeWithLastSubmission: false })
    }
    if (step === 'confirm') return await confirm(request, response, details)
    sendHtml(response, 404, errorPage('Not found', 'No such page.'))
  }

  type Details = Awaited<ReturnType<typeof provider.interactionDetails>>

  function requestsOf (details: Details): string[] {
    const scopes = String(details.params.scope ?? '').split(' ').filter((scope) => scope !== '')
    return scopes.map((scope) => SCOPE_WORDS[scope] ?? `use ${scope}`)
  }

  async function confirm (request: IncomingMessage, response: ServerResponse, details: Details): Promise<void> {
    const accountId = details.session!.accountId
    const user = users.get(accountId)!
    const grant = details.grantId === undefined
      ? new provider.Grant({ accountId, clientId: String(details.params.client_id) })
      : (await provider.Grant.find(details.grantId))!
    const missing = details.prompt.details as { missingOIDCScope?: string[], missingOIDCClaims?: string[], missingResourceScopes?: Record<string, string[]> }
    if (missing.missingOIDCScope !== undefined) grant.addOIDCScope(missing.missingOIDCScope.join(' '))
    if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims)
    // An API scope is granted only when the user has it.
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.filter((scope) => user.scopes.includes(scope)).join(' '))
    }
    const grantId = await grant.save()
    await provider.interactionFinished(request, response, { consent: { grantId } }, { mergeWithLastSubmission: true })
  }

  function listener (request: IncomingMessage, response: ServerResponse): void {
    const match = /^\/interaction\/([^/?]+)(?:\/([a-z]+))?(?:\?|$)/.exec(request.url ?? '')
    if (match === null) {
      providerListener ??= provider.callback()
      providerListener(request, response)
      return
    }
    interaction(request, response, match[2]).catch((error: unknown) => {
      // An expired or unknown interaction (its cookie gone): the user starts again from the application.
      const expired = error instanceof errors.SessionNotFound || error instanceof errors.InvalidRequest
      if (!expired) console.error('dev-idp: interaction failed:', error instanceof Error ? error.message : error)
      if (!response.headersSent) {
        sendHtml(response, expired ? 400 : 500, errorPage('Sign-in expired', 'This sign-in page is no longer valid.'))
      }
    })
  }

  return { provider, listener }
}
