import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import formbody from '@fastify/formbody'
import { MemoryFailureCounter, WsAuthError, basicChallenge, httpAnswer, toWsAuthError } from '@wsauth/core'
import type {} from '@wsauth/ws-bearer'
import { ClientRegistry } from './clients.js'
import { OAuthError } from './errors.js'
import { GrantRegistry, type GrantHandler } from './grants.js'
import { loggedError } from './logged-error.js'
import type { PasswordBearer, PasswordBearerOptions, TokenResponse } from './options.js'
import { bodyParams, optionalParam, requiredParam, scopeParam, type Params } from './params.js'
import { DEFAULT_SCRYPT_PARAMS, hashPassword, verifyPassword } from './password.js'
import { MemoryRefreshTokenStore, generateRefreshToken, hashRefreshToken } from './refresh-tokens.js'
import { checkScopes, isSubset } from './scope.js'
import type { UserRecord } from './users.js'

const FIFTEEN_MINUTES = 15 * 60 * 1000
const MAX_USERNAME_LENGTH = 256

interface JwtDecorator {
  sign (payload: Record<string, unknown>, options: { expiresIn: number }): string | Promise<string>
  verify (token: string): unknown
}

function jwtDecorator (fastify: FastifyInstance, namespace: string | undefined): JwtDecorator {
  const jwt = (fastify as unknown as { jwt?: Record<string, unknown> }).jwt
  const decorator = namespace === undefined ? jwt : jwt?.[namespace]
  if (typeof (decorator as Partial<JwtDecorator> | undefined)?.sign !== 'function') {
    throw new Error(namespace === undefined
      ? '@wsauth/password-bearer: @fastify/jwt was registered with a namespace; set `jwtNamespace`'
      : `@wsauth/password-bearer: no @fastify/jwt namespace "${namespace}"`)
  }
  return decorator as JwtDecorator
}

function positiveInteger (value: unknown, name: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new TypeError(`@wsauth/password-bearer: ${name} must be a positive integer`)
  return value as number
}

function routePath (value: unknown, name: string): string {
  if (typeof value !== 'string' || !value.startsWith('/')) throw new TypeError(`@wsauth/password-bearer: ${name} must be a path starting with /`)
  return value
}

/** A store that fails is unavailable (503): neither the client's fault nor a bug here. */
async function fromStore<T> (call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw new WsAuthError('unavailable', undefined, { cause: error })
  }
}

// RFC 6749 §5.1: token responses must not be cached; errors carry nothing worth caching either.
function noStore (reply: FastifyReply): void {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
}

/** Fastify's own 4xx errors (body too large, unsupported or unparsable content), with fixed descriptions. */
function requestError (error: unknown): { status: number, description: string } | null {
  const status = (error as { statusCode?: unknown } | null)?.statusCode
  if (typeof status !== 'number' || status < 400 || status > 499) return null
  if (status === 413) return { status, description: 'request body too large' }
  if (status === 415) return { status, description: 'unsupported content type' }
  // A parser's message can quote the body (JSON syntax errors do), so it is never passed on.
  return { status: 400, description: 'malformed request body' }
}

function invalidRefreshToken (): OAuthError {
  return new OAuthError('invalid_grant', 'invalid refresh token')
}

interface Grant {
  subject: string
  /** The scopes granted at login, kept by every refresh token of the family. */
  scopes: string[]
  clientId: string | null
}

async function passwordBearer (fastify: FastifyInstance, options: PasswordBearerOptions): Promise<void> {
  const users = options.users
  if (typeof users?.findByUsername !== 'function') throw new TypeError('@wsauth/password-bearer: `users` must be a UserStore')
  const accessTokenTtl = positiveInteger(options.accessTokenTtl ?? 900, 'accessTokenTtl')
  const refreshTokenTtl = positiveInteger(options.refreshTokenTtl ?? 14 * 24 * 60 * 60, 'refreshTokenTtl')
  const bodyLimit = positiveInteger(options.bodyLimit ?? 16 * 1024, 'bodyLimit')
  const tokenPath = routePath(options.tokenPath ?? '/token', 'tokenPath')
  const revokePath = routePath(options.revokePath ?? '/revoke', 'revokePath')
  if (tokenPath === revokePath) throw new TypeError('@wsauth/password-bearer: tokenPath and revokePath must differ')
  const realm = options.realm ?? 'wsauth'
  const clients = options.clients === undefined ? null : new ClientRegistry(options.clients)
  const refreshTokens = options.refreshTokens ?? new MemoryRefreshTokenStore()
  const usernameFailures = options.throttle?.username ?? new MemoryFailureCounter({ limit: 5, windowMs: FIFTEEN_MINUTES })
  const ipFailures = options.throttle?.ip ?? new MemoryFailureCounter({ limit: 20, windowMs: FIFTEEN_MINUTES })
  const jwt = jwtDecorator(fastify, options.jwtNamespace)
  // Computed once, from a password nobody knows, with the parameters real users' hashes have.
  const dummyHash = await hashPassword(randomBytes(32).toString('base64url'), options.scrypt ?? DEFAULT_SCRYPT_PARAMS)
  const grants = new GrantRegistry()
  fastify.addHook('onReady', async () => { grants.close() })

  async function issue (grant: Grant, accessScopes: string[], familyId: string): Promise<TokenResponse> {
    const now = Date.now()
    const iat = Math.floor(now / 1000)
    const tokenId = randomUUID()
    const claims: Record<string, unknown> = { sub: grant.subject, scope: accessScopes.join(' '), jti: tokenId, iat }
    // RFC 9068 §2.2: the client the token was issued to.
    if (grant.clientId !== null) claims.client_id = grant.clientId
    // A number: @fastify/jwt reads a number as seconds and a string as milliseconds. With `iat` given, exp = iat + ttl.
    const accessToken = await jwt.sign(claims, { expiresIn: accessTokenTtl })
    const refreshToken = generateRefreshToken()
    await fromStore(() => refreshTokens.save(
      hashRefreshToken(refreshToken),
      { familyId, subject: grant.subject, scopes: grant.scopes, clientId: grant.clientId, expiresAt: now + refreshTokenTtl * 1000, usedAt: null },
      { tokenId, expiresAt: (iat + accessTokenTtl) * 1000 }
    ))
    const response: TokenResponse = { access_token: accessToken, token_type: 'Bearer', expires_in: accessTokenTtl, refresh_token: refreshToken }
    if (accessScopes.length > 0) response.scope = accessScopes.join(' ')
    return response
  }

  /** Ends a family: its refresh tokens are deleted, its live access tokens denylisted and their sockets closed (4401). */
  async function revokeFamily (familyId: string): Promise<void> {
    const accessTokens = await fromStore(() => refreshTokens.deleteFamily(familyId))
    const now = Date.now()
    await Promise.all(accessTokens
      .filter((issued) => issued.expiresAt > now)
      .map((issued) => fastify.wsAuth.revokeToken(issued.tokenId, issued.expiresAt)))
  }

  function authenticateClient (request: FastifyRequest, params: Params): string | null {
    return clients === null ? null : clients.authenticate(request.raw.rawHeaders, params)
  }

  /**
   * Checks a username and password: throttled per username and per IP, and an unknown user costs what a wrong
   * password costs. Resolves the user, or `null` when the credentials are wrong.
   */
  async function checkPassword (username: string, password: string, ip: string): Promise<UserRecord | null> {
    const userKey = `user:${username}`
    const ipKey = `ip:${ip}`
    // Counted before any hashing, in one step with the check: a blocked guesser costs no scrypt work, and guesses
    // sent in parallel cannot all pass a check that none of them has counted yet.
    const userWait = await fromStore(() => usernameFailures.attempt(userKey))
    if (userWait > 0) throw new WsAuthError('rate_limited', 'too many failed logins', { retryAfter: userWait })
    const ipWait = await fromStore(() => ipFailures.attempt(ipKey))
    if (ipWait > 0) {
      await fromStore(() => usernameFailures.forgive(userKey))
      throw new WsAuthError('rate_limited', 'too many failed logins', { retryAfter: ipWait })
    }
    const user = await fromStore(() => users.findByUsername(username))
    // An unknown user is checked against the dummy hash: the same work, so the same answer in the same time.
    const matches = await verifyPassword(password, user?.passwordHash ?? dummyHash)
    if (user === null || user.disabled === true || !matches) return null
    // The username's count starts again; the IP only gets this attempt back, not the failures it piled up against
    // other usernames.
    await fromStore(() => Promise.all([usernameFailures.reset(userKey), ipFailures.forgive(ipKey)]))
    return user
  }

  async function passwordGrant (request: FastifyRequest, params: Params, clientId: string | null): Promise<TokenResponse> {
    const username = requiredParam(params, 'username')
    // Usernames key the throttle's memory: a longer one is no user's, and only costs the server.
    if (username.length > MAX_USERNAME_LENGTH) throw new OAuthError('invalid_request', 'username too long')
    const password = requiredParam(params, 'password')
    const requested = scopeParam(params)
    const user = await checkPassword(username, password, request.ip)
    if (user === null) throw new OAuthError('invalid_grant', 'invalid username or password')
    const userScopes = user.scopes ?? []
    if (requested !== undefined && !isSubset(requested, userScopes)) throw new OAuthError('invalid_scope', 'scope not granted')
    const scopes = requested ?? userScopes
    return await issue({ subject: user.username, scopes, clientId }, scopes, randomUUID())
  }

  async function refreshGrant (params: Params, clientId: string | null): Promise<TokenResponse> {
    const refreshToken = requiredParam(params, 'refresh_token')
    const requested = scopeParam(params)
    const hash = hashRefreshToken(refreshToken)
    const now = Date.now()
    const record = await fromStore(() => refreshTokens.find(hash))
    if (record === null || record.expiresAt <= now) throw invalidRefreshToken()
    // A rotated token presented again: it leaked, or the client did. Either way the whole family is ended.
    if (record.usedAt !== null) {
      await revokeFamily(record.familyId)
      throw invalidRefreshToken()
    }
    // Checked before the token is spent, so a client's mistake does not burn it.
    if (record.clientId !== clientId) throw invalidRefreshToken()
    if (requested !== undefined && !isSubset(requested, record.scopes)) throw new OAuthError('invalid_scope', 'scope not granted')
    const user = await fromStore(() => users.findByUsername(record.subject))
    if (user === null || user.disabled === true) {
      await revokeFamily(record.familyId)
      throw invalidRefreshToken()
    }
    const before = await fromStore(() => refreshTokens.markUsed(hash, now))
    if (before === null) throw invalidRefreshToken()
    if (before.usedAt !== null) {
      await revokeFamily(record.familyId)
      throw invalidRefreshToken()
    }
    // Scopes the user has lost since login are not granted again.
    const userScopes = user.scopes ?? []
    const accessScopes = (requested ?? record.scopes).filter((scope) => userScopes.includes(scope))
    const response = await issue({ subject: record.subject, scopes: record.scopes, clientId }, accessScopes, record.familyId)
    // A reuse that ended the family while this rotation was in flight deleted the spent token too: end the new pair.
    if (await fromStore(() => refreshTokens.find(hash)) === null) {
      await revokeFamily(record.familyId)
      throw invalidRefreshToken()
    }
    return response
  }

  async function extensionGrant (handler: GrantHandler, request: FastifyRequest, params: Params, clientId: string | null): Promise<TokenResponse> {
    const { subject, scopes } = await handler({ params, request, clientId })
    // A handler that answers with something else is a bug (a 500), not a client's doing.
    if (typeof subject !== 'string' || subject === '') throw new TypeError('a grant handler must resolve a non-empty subject')
    const granted = checkScopes(scopes, 'a grant handler\'s scopes')
    return await issue({ subject, scopes: granted, clientId }, granted, randomUUID())
  }

  async function revokeAccessToken (token: string, clientId: string | null): Promise<void> {
    let claims: Record<string, unknown>
    try {
      // fast-jwt only ever resolves an object payload.
      claims = await jwt.verify(token) as Record<string, unknown>
    } catch {
      // RFC 7009 §2.2: an invalid token is not an error; there is nothing to revoke.
      return
    }
    const { jti, exp, client_id: tokenClient } = claims
    if (typeof jti !== 'string' || (tokenClient ?? null) !== clientId) return
    await fastify.wsAuth.revokeToken(jti, typeof exp === 'number' ? exp * 1000 : null)
  }

  async function token (request: FastifyRequest, reply: FastifyReply): Promise<TokenResponse> {
    const params = bodyParams(request.body)
    const clientId = authenticateClient(request, params)
    const grantType = requiredParam(params, 'grant_type')
    let response: TokenResponse
    if (grantType === 'password') response = await passwordGrant(request, params, clientId)
    else if (grantType === 'refresh_token') response = await refreshGrant(params, clientId)
    else {
      const handler = grants.get(grantType)
      if (handler === undefined) throw new OAuthError('unsupported_grant_type', 'unsupported grant_type')
      response = await extensionGrant(handler, request, params, clientId)
    }
    noStore(reply)
    return response
  }

  async function revoke (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const params = bodyParams(request.body)
    const clientId = authenticateClient(request, params)
    const revoked = requiredParam(params, 'token')
    // RFC 7009 §2.1: the hint only speeds up a lookup; both kinds are cheap to try, so it is only checked for type.
    optionalParam(params, 'token_type_hint')
    const record = await fromStore(() => refreshTokens.find(hashRefreshToken(revoked)))
    if (record === null) await revokeAccessToken(revoked, clientId)
    // Another client's token is left alone and answered like an unknown one: nothing is revealed about it.
    else if (record.clientId === clientId) await revokeFamily(record.familyId)
    noStore(reply)
    return reply.code(200).send()
  }

  function answerError (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    noStore(reply)
    if (error instanceof OAuthError) {
      request.log.info({ passwordBearer: { error: error.error } }, 'token endpoint request refused')
      if (error.error === 'invalid_client') reply.header('www-authenticate', basicChallenge(realm))
      return reply.code(error.status).send({ error: error.error, error_description: error.message })
    }
    const refused = requestError(error)
    if (refused !== null) {
      request.log.info({ passwordBearer: { error: 'invalid_request', status: refused.status } }, 'token endpoint request refused')
      return reply.code(refused.status).send({ error: 'invalid_request', error_description: refused.description })
    }
    const wsAuthError = toWsAuthError(error)
    if (wsAuthError.outcome === 'rate_limited') {
      request.log.info({ passwordBearer: { error: wsAuthError.outcome } }, 'token endpoint request refused')
    } else {
      request.log.error({ err: loggedError(wsAuthError.cause, request.body) }, 'token endpoint failed: %s', wsAuthError.outcome)
    }
    const answer = httpAnswer(wsAuthError, { realm })
    return reply.code(answer.status).headers(answer.headers).send(answer.body)
  }

  fastify.decorate('passwordBearer', {
    async issueTokens (subject, scopes, issueOptions = {}) {
      if (typeof subject !== 'string' || subject === '') throw new TypeError('subject must be a non-empty string')
      const granted = checkScopes(scopes, 'scopes')
      const clientId = issueOptions.clientId ?? null
      if (clientId !== null && clients?.has(clientId) !== true) throw new TypeError('clientId must be a configured client')
      return await issue({ subject, scopes: granted, clientId }, granted, randomUUID())
    },
    async authenticateUser (username, password, request) {
      const user = await checkPassword(username, password, request.ip)
      return user === null ? null : { subject: user.username, scopes: user.scopes ?? [], expiresAt: null, tokenId: null }
    },
    addGrant (grantType, handler) {
      grants.add(grantType, handler)
    },
    async revokeFamilyOf (refreshToken) {
      const record = await fromStore(() => refreshTokens.find(hashRefreshToken(refreshToken)))
      if (record === null) return false
      await revokeFamily(record.familyId)
      return true
    },
  } satisfies PasswordBearer)

  // An encapsulated context: its parsers and error handler are the routes' own, and the app's stay as they were.
  await fastify.register(async function passwordBearerRoutes (routes) {
    // Forms and JSON only, whatever parsers the app added: anything else is 415.
    routes.removeAllContentTypeParsers()
    routes.addContentTypeParser('application/json', { parseAs: 'string' }, routes.getDefaultJsonParser('error', 'error'))
    await routes.register(formbody)
    routes.setErrorHandler(answerError)
    routes.post(tokenPath, { bodyLimit }, token)
    routes.post(revokePath, { bodyLimit }, revoke)
  })
}

export default fp(passwordBearer, {
  name: '@wsauth/password-bearer',
  fastify: '5.x',
  dependencies: ['@fastify/jwt', '@wsauth/ws-bearer'],
})
