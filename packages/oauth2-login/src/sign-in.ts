import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CookieSerializeOptions } from '@fastify/cookie'
import { UpstreamError } from '@wsauth/ws-bearer'
import { LoginError } from './errors.js'
import { verifyIdToken } from './id-token.js'
import type { LoginCodes, SignedIn } from './login-codes.js'
import type { LoginSettings } from './options.js'
import type { ConnectedProvider, OAuth2ClientOptions, Provider } from './provider.js'

export const COOKIES = { state: 'wsauth-oidc-state', verifier: 'wsauth-oidc-verifier', nonce: 'wsauth-oidc-nonce' } as const

type Query = Partial<Record<string, unknown>>

function sameString (given: unknown, expected: string | undefined): boolean {
  if (typeof given !== 'string' || expected === undefined || given.length !== expected.length) return false
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected))
}

/** Why the token endpoint refused or failed: its own 4xx is the sign-in's end, anything else the provider's trouble. */
function exchangeFailure (error: unknown): LoginError {
  if (error instanceof LoginError) return error
  const boom = error as { isBoom?: boolean, output?: { statusCode?: number }, data?: { isResponseError?: boolean } | null }
  if (boom?.isBoom !== true) throw error
  const status = boom.output?.statusCode ?? 0
  if (boom.data?.isResponseError === true && status >= 400 && status < 500) return new LoginError('code_rejected')
  const reason = boom.data?.isResponseError === true ? `HTTP ${status}` : ((error as { message?: string }).message ?? 'request failed')
  return new LoginError('provider_unavailable', { cause: new UpstreamError('unreachable', `token endpoint: ${reason}`) })
}

function cookieOptions (settings: LoginSettings): CookieSerializeOptions {
  return { path: settings.callbackPath, httpOnly: true, sameSite: 'lax', secure: 'auto' }
}

function callbackUri (settings: LoginSettings, request: FastifyRequest): string {
  const { callbackUri, callbackPath } = settings
  if (typeof callbackUri === 'string') return callbackUri
  return callbackUri === undefined ? `${request.protocol}://${request.host}${callbackPath}` : callbackUri(request)
}

/** The answer's state must be the one this browser's cookie holds, and the sign-in it started must be recent. */
function checkState (settings: LoginSettings, request: FastifyRequest): true {
  const state = (request.query as Query).state
  if (!sameString(state, request.cookies[COOKIES.state])) throw new LoginError('state_mismatch')
  const startedAt = parseInt((state as string).split('.')[0]!, 36)
  if (!(settings.clock() - startedAt < settings.loginTtlMs)) throw new LoginError('login_expired')
  return true
}

/** What @fastify/oauth2 is set up with, besides the provider's endpoints. */
export function oauth2ClientOptions (settings: LoginSettings): OAuth2ClientOptions {
  return {
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    scope: settings.scope,
    callbackUri: (request) => callbackUri(settings, request),
    cookie: cookieOptions(settings),
    redirectStateCookieName: COOKIES.state,
    verifierCookieName: COOKIES.verifier,
    // The state carries its own start time, so an old answer can be told from a forged one.
    generateStateFunction: async () => `${settings.clock().toString(36)}.${randomBytes(16).toString('base64url')}`,
    checkStateFunction: async (request: FastifyRequest) => checkState(settings, request),
  }
}

/**
 * The two steps of a sign-in. `start` sends the browser to the provider with a fresh state, PKCE challenge and nonce
 * (kept in HttpOnly cookies scoped to the callback); `finish` checks the provider's answer against them, exchanges the
 * code, verifies the ID token and maps its claims to a local user.
 */
export class SignIn {
  readonly #settings: LoginSettings
  readonly #provider: Provider
  readonly #codes: LoginCodes
  readonly #cookie: CookieSerializeOptions

  constructor (settings: LoginSettings, provider: Provider, codes: LoginCodes) {
    this.#settings = settings
    this.#provider = provider
    this.#codes = codes
    this.#cookie = cookieOptions(settings)
  }

  async start (request: FastifyRequest, reply: FastifyReply): Promise<string> {
    const { oauth2 } = await this.#connect()
    const nonce = randomBytes(16).toString('base64url')
    const location = new URL(await oauth2.generateAuthorizationUri(request, reply))
    location.searchParams.set('nonce', nonce)
    reply.setCookie(COOKIES.nonce, nonce, this.#cookie)
    return location.href
  }

  /** Checks the provider's answer and resolves who signed in; rejects with a `LoginError` for every refusal. */
  async finish (request: FastifyRequest, reply: FastifyReply): Promise<string> {
    const query = request.query as Query
    const nonce = request.cookies[COOKIES.nonce]
    // The state, verifier and nonce serve one answer: whatever comes of it, they are gone.
    reply.clearCookie(COOKIES.nonce, this.#cookie)
    if (query.error !== undefined) {
      reply.clearCookie(COOKIES.state, this.#cookie).clearCookie(COOKIES.verifier, this.#cookie)
      checkState(this.#settings, request)
      throw new LoginError(query.error === 'access_denied' ? 'access_denied' : 'provider_refused')
    }
    const provider = await this.#connect()
    if (typeof query.code !== 'string' || query.code === '') {
      reply.clearCookie(COOKIES.state, this.#cookie).clearCookie(COOKIES.verifier, this.#cookie)
      throw new LoginError('invalid_request')
    }
    // @fastify/oauth2 clears its cookies, checks the state (`checkStateFunction`) and exchanges the code with PKCE.
    const { token } = await provider.oauth2.getAccessTokenFromAuthorizationCodeFlow(request, reply).catch((error: unknown) => {
      throw exchangeFailure(error)
    })
    if (typeof token.id_token !== 'string') {
      throw new LoginError('provider_unavailable', { cause: new UpstreamError('bad_response', 'token endpoint: no id_token') })
    }
    if (nonce === undefined) throw new LoginError('nonce_mismatch')
    const claims = await verifyIdToken(token.id_token, {
      issuer: provider.metadata.issuer,
      clientId: this.#settings.clientId,
      nonce,
      algorithms: this.#settings.algorithms,
      keys: provider.keys,
      now: this.#settings.clock(),
    })
    const user = await this.#settings.resolveUser(claims, request)
    if (user === null) throw new LoginError('unknown_user')
    return await this.#codes.issue(checkedUser(user))
  }

  async #connect (): Promise<ConnectedProvider> {
    try {
      return await this.#provider.connect()
    } catch (error) {
      throw new LoginError('provider_unavailable', { cause: error })
    }
  }
}

/** `resolveUser`'s answer, checked: anything but a subject and a list of scopes is the app's bug. */
function checkedUser (user: SignedIn): SignedIn {
  if (typeof user?.subject !== 'string' || user.subject === '' || !Array.isArray(user.scopes) ||
    !user.scopes.every((scope) => typeof scope === 'string')) {
    throw new TypeError('resolveUser must return { subject: non-empty string, scopes: string[] } or null')
  }
  return user
}
