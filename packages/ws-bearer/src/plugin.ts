import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions, preValidationHookHandler } from 'fastify'
import type {} from '@fastify/websocket'
import fp from 'fastify-plugin'
import type { WebSocket, WebSocketServer } from 'ws'
import {
  DEFAULT_MAX_CREDENTIAL_LENGTH, MemoryDenyList, OriginAllowlist, WsAuthError, closeAnswer, httpAnswer, redactQuery, redactedRequestSerializer,
  toWsAuthError, type Credential, type DenyList, type Identity, type Outcome, type Transport,
} from '@wsauth/core'
import { Connections } from './connections.js'
import { authorizationExtractor, queryExtractor } from './extractors.js'
import type { Extractor, Mode, WsAuthOptions, WsAuthRouteOptions } from './options.js'
import { completeIdentity, createTokenVerifier, verifyCredential } from './verifier.js'

/** The guard's decorator: `fastify.wsAuth`. */
export interface WsAuthGuard {
  /** Adds a transport (subprotocol, cookie, …); extractors run in `precedence` order. */
  registerExtractor (extractor: Extractor): void
  /** Verifies a token as the handshake would (denylist included), for routes that take tokens another way. */
  verifyToken (token: string, request: FastifyRequest, transport: Transport): Promise<Identity>
  /** Closes a subject's live sockets on this node: 4401 `token revoked`, or 4403 when access was withdrawn. */
  disconnect (subject: string, outcome?: 'revoked' | 'withdrawn'): number
  /** Closes the live sockets authenticated with one token id on this node. */
  disconnectToken (tokenId: string, outcome?: 'revoked' | 'withdrawn'): number
  /** Adds a token id to the denylist until `expiresAt` and closes its sockets. */
  revokeToken (tokenId: string, expiresAt: number | null): Promise<number>
  /** Live authenticated sockets on this node (of one subject, when given). */
  connectionCount (subject?: string): number
  readonly denyList: DenyList
  readonly origins: OriginAllowlist | null
  /** The longest credential accepted, in characters: transports added by other packages enforce it too. */
  readonly maxCredentialLength: number
}

// What the handshake decided, kept on the raw request until ws completes the upgrade.
const kHandshake = Symbol('wsauth.handshake')
type Handshake =
  | { kind: 'accepted', identity: Identity }
  | { kind: 'rejected', error: WsAuthError }
  | { kind: 'exempt' }
type RawRequest = IncomingMessage & { [kHandshake]?: Handshake }

function isWebsocketRoute (route: RouteOptions): boolean {
  const options = route as RouteOptions & { websocket?: boolean, wsHandler?: unknown }
  return options.websocket === true || typeof options.wsHandler === 'function'
}

function appendHook (route: RouteOptions, hook: preValidationHookHandler): void {
  const existing = route.preValidation
  route.preValidation = existing === undefined ? [hook] : [hook, ...(Array.isArray(existing) ? existing : [existing])]
}

async function wsBearer (fastify: FastifyInstance, options: WsAuthOptions): Promise<void> {
  const maxLength = options.maxCredentialLength ?? DEFAULT_MAX_CREDENTIAL_LENGTH
  const realm = options.realm ?? 'wsauth'
  const defaultMode: Mode = options.mode ?? 'http'
  const invalidTokenStatus = options.invalidTokenStatus ?? 401
  const basic = options.basic === undefined || options.basic === false
    ? null
    : { tokenUsername: 'token', ...(options.basic === true ? {} : options.basic) }
  const queryName = options.query === undefined || options.query === false
    ? null
    : options.query === true ? 'token' : options.query.name ?? 'token'
  const origins = options.origins === undefined ? null : new OriginAllowlist(options.origins)
  const denyList = options.denyList ?? new MemoryDenyList()
  const verifyToken = createTokenVerifier(fastify, options.verify, options.jwtNamespace)
  const connections = new Connections()

  if (basic !== null && (origins === null || origins.size === 0)) {
    throw new Error('@wsauth/ws-bearer: Basic credentials are sent by browsers on their own; set `origins` to an allowlist')
  }

  const extractors: Extractor[] = [authorizationExtractor(maxLength, basic)]
  if (queryName !== null) extractors.push(queryExtractor(queryName, maxLength))
  const originRequired = new Set<Transport>()

  function registerExtractor (extractor: Extractor): void {
    if (extractors.some((existing) => existing.transport === extractor.transport)) {
      throw new Error(`@wsauth/ws-bearer: a ${extractor.transport} extractor is already registered`)
    }
    if (extractor.ambient === true && (origins === null || origins.size === 0)) {
      throw new Error(`@wsauth/ws-bearer: the ${extractor.transport} transport is ambient; set \`origins\` to an allowlist`)
    }
    if (extractor.requireOrigin === true) originRequired.add(extractor.transport)
    extractors.push(extractor)
    extractors.sort((a, b) => a.precedence - b.precedence)
  }

  function extract (request: FastifyRequest): Credential | null {
    for (const extractor of extractors) {
      const credential = extractor.extract(request)
      if (credential !== null) return credential
    }
    return null
  }

  async function checkDenyList (tokenId: string | null): Promise<void> {
    if (tokenId === null) return
    let revoked: boolean
    try {
      revoked = await denyList.has(tokenId)
    } catch (error) {
      throw new WsAuthError('unavailable', undefined, { cause: error })
    }
    if (revoked) throw new WsAuthError('invalid', 'token revoked')
  }

  async function verify (credential: Credential, request: FastifyRequest): Promise<Identity> {
    const init = await verifyCredential(credential, request, verifyToken, basic?.verifyPassword)
    const identity = completeIdentity(init, credential, Date.now())
    await checkDenyList(identity.tokenId)
    return identity
  }

  async function authenticate (request: FastifyRequest, route: WsAuthRouteOptions): Promise<Identity> {
    const origin = request.headers.origin
    if (origins !== null && origin !== undefined && !origins.allows(origin)) {
      throw new WsAuthError('forbidden', 'origin not allowed')
    }
    const credential = extract(request)
    if (credential === null) throw new WsAuthError('missing', 'no credentials')
    if (origin === undefined && originRequired.has(credential.transport)) {
      throw new WsAuthError('forbidden', 'origin required')
    }
    const identity = await verify(credential, request)
    const authorize = route.authorize ?? options.authorize
    if (authorize !== undefined && !(await authorize(identity, request))) {
      throw new WsAuthError('forbidden', 'not allowed')
    }
    return identity
  }

  function logFailure (request: FastifyRequest, error: WsAuthError): void {
    if (error.outcome === 'internal' || error.outcome === 'unavailable') {
      request.log.error({ err: error.cause }, 'websocket authentication failed: %s', error.outcome)
    } else {
      request.log.info({ wsAuth: { outcome: error.outcome, code: error.code } }, 'websocket authentication rejected')
    }
  }

  // One hook per route, with the route's settings bound once rather than looked up on every handshake.
  function createGuard (route: WsAuthRouteOptions): preValidationHookHandler {
    const mode = route.mode ?? defaultMode
    return async function guard (request: FastifyRequest, reply: FastifyReply) {
      const raw = request.raw as RawRequest
      try {
        const identity = await authenticate(request, route)
        request.identity = identity
        raw[kHandshake] = { kind: 'accepted', identity }
      } catch (thrown) {
        const error = toWsAuthError(thrown)
        logFailure(request, error)
        if (mode === 'close' && request.ws) {
          raw[kHandshake] = { kind: 'rejected', error }
          return
        }
        const answer = httpAnswer(error, { realm, basic: basic !== null, invalidTokenStatus })
        return reply.code(answer.status).headers(answer.headers).send(answer.body)
      }
    }
  }

  const exempt: preValidationHookHandler = async function exempt (request: FastifyRequest) {
    (request.raw as RawRequest)[kHandshake] = { kind: 'exempt' }
  }

  fastify.decorateRequest('identity', null)

  fastify.addHook('onRoute', (route) => {
    if (!isWebsocketRoute(route)) return
    const config = (route.config as { wsAuth?: false | WsAuthRouteOptions } | undefined)?.wsAuth
    appendHook(route, config === false ? exempt : createGuard(config ?? {}))
  })

  // Tokens in the query string must not reach the request log at any level.
  if (queryName !== null) {
    const parentFactory = fastify.childLoggerFactory
    const req = redactedRequestSerializer([queryName])
    fastify.setChildLoggerFactory(function redactingChildLogger (logger, bindings, childOptions, rawRequest) {
      const serializers = { ...childOptions.serializers, req }
      return parentFactory.call(this, logger, bindings, { ...childOptions, serializers }, rawRequest)
    })
  }

  // @fastify/websocket upgrades inside its route handler and then calls the app's handler. Wrapping the ws server's
  // handleUpgrade callback is the one place that runs after the 101 and before the app sees the socket, which close
  // mode and connection tracking both need.
  const wss = (fastify as FastifyInstance & { websocketServer: WebSocketServer }).websocketServer
  const handleUpgrade = wss.handleUpgrade.bind(wss)
  wss.handleUpgrade = function guardedUpgrade (request, socket, head, callback) {
    handleUpgrade(request, socket, head, (ws: WebSocket, upgraded: IncomingMessage) => {
      const handshake = (request as RawRequest)[kHandshake]
      if (handshake === undefined) {
        // A websocket route registered before the guard: fail closed rather than serve it unauthenticated.
        fastify.log.error({ url: redactQuery(request.url ?? '', queryName === null ? [] : [queryName]) },
          'websocket route is not covered by @wsauth/ws-bearer; register the guard before the route')
        ws.close(closeAnswer(new WsAuthError('internal')).code, closeAnswer(new WsAuthError('internal')).reason)
        return
      }
      if (handshake.kind === 'rejected') {
        const { code, reason } = closeAnswer(handshake.error)
        ws.close(code, reason)
        return
      }
      if (handshake.kind === 'accepted') connections.track(ws, handshake.identity)
      callback(ws, upgraded)
    })
  }

  function disconnect (subject: string, outcome: Outcome = 'revoked'): number {
    return connections.closeSubject(subject, outcome)
  }

  function disconnectToken (tokenId: string, outcome: Outcome = 'revoked'): number {
    return connections.closeTokenId(tokenId, outcome)
  }

  const decorator: WsAuthGuard = {
    registerExtractor,
    async verifyToken (token, request, transport) {
      return await verify({ kind: 'token', transport, token }, request)
    },
    disconnect,
    disconnectToken,
    async revokeToken (tokenId, expiresAt) {
      try {
        await denyList.add(tokenId, expiresAt)
      } catch (error) {
        throw new WsAuthError('unavailable', undefined, { cause: error })
      }
      return disconnectToken(tokenId)
    },
    connectionCount (subject) {
      return subject === undefined ? connections.size : connections.countSubject(subject)
    },
    denyList,
    origins,
    maxCredentialLength: maxLength,
  }
  fastify.decorate('wsAuth', decorator)
}

export default fp(wsBearer, {
  name: '@wsauth/ws-bearer',
  fastify: '5.x',
  dependencies: ['@fastify/websocket'],
})
