import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import formbody from '@fastify/formbody'
import type {} from '@wsauth/ws-bearer'
import { errorAnswerer, noStore } from './answer.js'
import { OAuthError, fromStore } from './errors.js'
import { GrantRegistry, type GrantHandler } from './grants.js'
import { PasswordLogin } from './login.js'
import type { PasswordBearer, PasswordBearerOptions, TokenResponse } from './options.js'
import { bodyParams, optionalParam, requiredParam, type Params } from './params.js'
import { hashPassword } from './password.js'
import { RefreshGrant } from './refresh-grant.js'
import { parseRefreshToken } from './refresh-token.js'
import { checkScopes } from './scope.js'
import { readSettings } from './settings.js'
import { TokenIssuer, type JwtSigner } from './tokens.js'

interface JwtDecorator extends JwtSigner {
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

/** A refresh-token family and whose it is. */
interface UserFamily { familyId: string, subject: string }

async function passwordBearer (fastify: FastifyInstance, options: PasswordBearerOptions): Promise<void> {
  const settings = readSettings(options, fastify.wsAuth.stores)
  const { users, clients, refreshTokens, throttle, realm } = settings
  const jwt = jwtDecorator(fastify, settings.jwtNamespace)
  const tokens = new TokenIssuer({
    jwt,
    store: refreshTokens,
    accessTokenTtl: settings.accessTokenTtl,
    refreshTokenTtl: settings.refreshTokenTtl,
    accessTokensPerFamily: settings.accessTokensPerFamily,
    revokeAccessToken: (tokenId, expiresAt) => fastify.wsAuth.revokeToken(tokenId, expiresAt),
    clock: settings.clock,
  })
  const login = new PasswordLogin({
    users,
    usernameFailures: throttle.username,
    ipFailures: throttle.ip,
    // Computed once, from a password nobody knows, with the parameters real users' hashes have.
    dummyHash: await hashPassword(randomBytes(32).toString('base64url'), settings.scrypt),
    tokens,
  })
  const refresh = new RefreshGrant({
    users,
    store: refreshTokens,
    tokens,
    ipFailures: throttle.refreshIp,
    clientFailures: clients === null ? null : throttle.refreshClient,
    isConfidential: (clientId) => clients?.isConfidential(clientId) === true,
    clock: settings.clock,
  })
  const grants = new GrantRegistry()
  fastify.addHook('onReady', async () => { grants.close() })

  function authenticateClient (request: FastifyRequest, params: Params): string | null {
    return clients === null ? null : clients.authenticate(request.raw, params)
  }

  async function extensionGrant (handler: GrantHandler, request: FastifyRequest, params: Params, clientId: string | null): Promise<TokenResponse> {
    const { subject, scopes } = await handler({ params, request, clientId })
    // A handler that answers with something else is a bug (a 500), not a client's doing.
    if (typeof subject !== 'string' || subject === '') throw new TypeError('a grant handler must resolve a non-empty subject')
    const granted = checkScopes(scopes, 'a grant handler\'s scopes')
    return await tokens.startFamily({ subject, scopes: granted, clientId }, granted)
  }

  /** The family a refresh token names (any client's when `clientId` is `undefined`); `null` for anything else. */
  async function familyOf (refreshToken: string, clientId?: string | null): Promise<UserFamily | null> {
    const parsed = parseRefreshToken(refreshToken)
    if (parsed === null) return null
    const family = await fromStore(() => refreshTokens.find(parsed.familyId))
    if (family === null || (clientId !== undefined && family.clientId !== clientId)) return null
    return { familyId: parsed.familyId, subject: family.subject }
  }

  /** A revocation the user asked for (`POST /revoke`, `revokeFamilyOf`): the family, and the user's password sockets. */
  async function revokeUserFamily (family: UserFamily): Promise<boolean> {
    const revoked = await tokens.revokeFamily(family.familyId)
    // Sockets opened with a password carry no token id: only the subject reaches them.
    fastify.wsAuth.disconnectPasswords(family.subject)
    return revoked
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
    const { jti, exp, sub, client_id: tokenClient } = claims
    if (typeof jti !== 'string' || (tokenClient ?? null) !== clientId) return
    // With the subject, the user's sockets opened with a password (no token id) close too: a revocation is a logout.
    await fastify.wsAuth.revokeToken(jti, typeof exp === 'number' ? exp * 1000 : null, typeof sub === 'string' ? { subject: sub } : {})
  }

  async function token (request: FastifyRequest, reply: FastifyReply): Promise<TokenResponse> {
    const params = bodyParams(request.body)
    const clientId = authenticateClient(request, params)
    const grantType = requiredParam(params, 'grant_type')
    let response: TokenResponse
    if (grantType === 'password') response = await login.grant(request, params, clientId)
    else if (grantType === 'refresh_token') response = await refresh.grant(request, params, clientId)
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
    // Any token of a family names it, a spent one too (presenting one is reuse). Another client's family is left
    // alone and answered like an unknown token: nothing is revealed about it.
    const family = await familyOf(revoked, clientId)
    if (family === null) await revokeAccessToken(revoked, clientId)
    else await revokeUserFamily(family)
    noStore(reply)
    return reply.code(200).send()
  }

  fastify.decorate('passwordBearer', {
    async issueTokens (subject, scopes, issueOptions = {}) {
      if (typeof subject !== 'string' || subject === '') throw new TypeError('subject must be a non-empty string')
      const granted = checkScopes(scopes, 'scopes')
      const clientId = issueOptions.clientId ?? null
      if (clientId !== null && clients?.has(clientId) !== true) throw new TypeError('clientId must be a configured client')
      return await tokens.startFamily({ subject, scopes: granted, clientId }, granted)
    },
    async authenticateUser (username, password, request) {
      const user = await login.checkPassword(username, password, request.ip)
      if (user === null) return null
      // A password socket lives as long as an access token would: it has no token id, so only its subject reaches it.
      return { subject: user.username, scopes: user.scopes ?? [], expiresAt: Date.now() + settings.accessTokenTtl * 1000, tokenId: null }
    },
    addGrant (grantType, handler) {
      grants.add(grantType, handler)
    },
    async revokeFamilyOf (refreshToken) {
      const family = await familyOf(refreshToken)
      return family !== null && await revokeUserFamily(family)
    },
  } satisfies PasswordBearer)

  // An encapsulated context: its parsers and error handler are the routes' own, and the app's stay as they were.
  await fastify.register(async function passwordBearerRoutes (routes) {
    // Forms and JSON only, whatever parsers the app added: anything else is 415.
    routes.removeAllContentTypeParsers()
    routes.addContentTypeParser('application/json', { parseAs: 'string' }, routes.getDefaultJsonParser('error', 'error'))
    await routes.register(formbody)
    routes.setErrorHandler(errorAnswerer(realm))
    routes.post(settings.tokenPath, { bodyLimit: settings.bodyLimit }, token)
    routes.post(settings.revokePath, { bodyLimit: settings.bodyLimit }, revoke)
    fastify.wsAuth.addDiscovery({ endpoints: { token: routes.prefix + settings.tokenPath, revoke: routes.prefix + settings.revokePath } })
  })
}

export default fp(passwordBearer, {
  name: '@wsauth/password-bearer',
  fastify: '5.x',
  dependencies: ['@fastify/jwt', '@wsauth/ws-bearer'],
})
