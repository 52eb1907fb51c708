import type { IncomingMessage } from 'node:http'
import type {
  FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions, preValidationHookHandler,
} from 'fastify'
import type {} from '@fastify/websocket'
import fp from 'fastify-plugin'
import type { WebSocket, WebSocketServer } from 'ws'
import {
  DEFAULT_MAX_CREDENTIAL_LENGTH, MemoryDenyList, OriginAllowlist, WsAuthError, closeAnswer, httpAnswer, redactQuery, redactedRequestSerializer,
  toWsAuthError, type Credential, type DenyList, type Identity, type Outcome, type Transport,
} from '@wsauth/core'
import { Connections, type Connection } from './connections.js'
import { publishAuthenticated, publishFailed, publishRefreshed, type Phase } from './events.js'
import { authorizationExtractor, queryExtractor } from './extractors.js'
import type { Authorizer, Extractor, InBandProtocol, LiveSession, Mode, WsAuthOptions, WsAuthRouteOptions } from './options.js'
import { andThen, isPromise, type MaybePromise } from './maybe-async.js'
import { completeIdentity, createTokenVerifier, verifyCredential } from './verifier.js'

/** The guard's decorator: `fastify.wsAuth`. */
export interface WsAuthGuard {
  /** Adds a transport (subprotocol, cookie, …); extractors run in `precedence` order. */
  registerExtractor (extractor: Extractor): void
  /** Plugs in the in-band messages of `firstMessage` and `refresh` routes (@wsauth/first-message); one per guard. */
  registerInBandProtocol (protocol: InBandProtocol): void
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

// A route's guard settings, resolved once when the route is added.
interface GuardedRoute {
  url: string
  mode: Mode
  authorize: Authorizer | undefined
  firstMessage: boolean
  refresh: boolean
}

// What the handshake decided, kept on the raw request until ws completes the upgrade. `revocations` is the count
// taken before verifying (see `Connections.revocations`).
const kHandshake = Symbol('wsauth.handshake')
type Handshake =
  | { kind: 'accepted', identity: Identity, request: FastifyRequest, route: GuardedRoute, revocations: number }
  | { kind: 'deferred', request: FastifyRequest, route: GuardedRoute }
  | { kind: 'rejected', error: WsAuthError }
  | { kind: 'exempt' }
type RawRequest = IncomingMessage & { [kHandshake]?: Handshake }

// The transport of the credential being judged, for the failure event and log; `null` while none was found.
interface Attempt { transport: Transport | null }

function refuseRevoked (revoked: boolean): void {
  if (revoked) throw new WsAuthError('invalid', 'token revoked')
}

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
  const clock = options.clock ?? Date.now
  const verifyToken = createTokenVerifier(fastify, options.verify, options.jwtNamespace, clock)
  let inBand: InBandProtocol | null = null
  const connections = new Connections({ now: clock, onExpiring: (socket, identity) => inBand?.expiring(socket, identity) })
  // A route that needs the in-band protocol, for the startup check.
  let inBandRoute: string | null = null

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

  function registerInBandProtocol (protocol: InBandProtocol): void {
    if (inBand !== null) throw new Error('@wsauth/ws-bearer: an in-band protocol is already registered')
    inBand = protocol
  }

  function extract (request: FastifyRequest, attempt: Attempt): Credential | null {
    for (const extractor of extractors) {
      attempt.transport = extractor.transport
      const credential = extractor.extract(request)
      if (credential !== null) {
        attempt.transport = credential.transport
        return credential
      }
    }
    attempt.transport = null
    return null
  }

  function checkDenyList (tokenId: string | null): MaybePromise<void> {
    if (tokenId === null) return
    const unavailable = (error: unknown): never => { throw new WsAuthError('unavailable', undefined, { cause: error }) }
    let revoked: MaybePromise<boolean>
    try {
      revoked = denyList.has(tokenId)
    } catch (error) {
      return unavailable(error)
    }
    return isPromise(revoked) ? revoked.then(refuseRevoked, unavailable) : refuseRevoked(revoked)
  }

  function verify (credential: Credential, request: FastifyRequest): MaybePromise<Identity> {
    return andThen(verifyCredential(credential, request, verifyToken, basic?.verifyPassword), (init) => {
      const identity = completeIdentity(init, credential, clock())
      return andThen(checkDenyList(identity.tokenId), () => identity)
    })
  }

  function authorizeIdentity (identity: Identity, request: FastifyRequest, route: GuardedRoute): MaybePromise<void> {
    if (route.authorize === undefined) return
    return andThen(route.authorize(identity, request), (allowed) => {
      if (!allowed) throw new WsAuthError('forbidden', 'not allowed')
    })
  }

  /** The handshake's identity; `null` when it carried no credential and the route takes one by first message. */
  function authenticate (request: FastifyRequest, route: GuardedRoute, attempt: Attempt): MaybePromise<Identity | null> {
    const origin = request.headers.origin
    if (origins !== null && origin !== undefined && !origins.allows(origin)) {
      throw new WsAuthError('forbidden', 'origin not allowed')
    }
    const credential = extract(request, attempt)
    if (credential === null) {
      if (route.firstMessage) return null
      throw new WsAuthError('missing', 'no credentials')
    }
    if (origin === undefined && originRequired.has(credential.transport)) {
      throw new WsAuthError('forbidden', 'origin required')
    }
    return andThen(verify(credential, request), (identity) => andThen(authorizeIdentity(identity, request, route), () => identity))
  }

  function logFailure (request: FastifyRequest, error: WsAuthError, transport: Transport | null, phase: Phase): void {
    if (error.outcome === 'internal' || error.outcome === 'unavailable') {
      request.log.error({ err: error.cause }, 'websocket authentication failed: %s', error.outcome)
    } else {
      request.log.info({ wsAuth: { outcome: error.outcome, code: error.code, transport, phase } }, 'websocket authentication rejected')
    }
  }

  function refused (request: FastifyRequest, error: WsAuthError, transport: Transport | null, route: GuardedRoute, phase: Phase): void {
    logFailure(request, error, transport, phase)
    publishFailed(error.outcome, transport, route.url, phase)
  }

  // One hook per route, with the route's settings bound once rather than looked up on every handshake.
  function createGuard (routeOptions: WsAuthRouteOptions, url: string): preValidationHookHandler {
    const route: GuardedRoute = {
      url,
      mode: routeOptions.mode ?? defaultMode,
      authorize: routeOptions.authorize ?? options.authorize,
      firstMessage: routeOptions.firstMessage === true,
      refresh: routeOptions.refresh === true,
    }
    const mode = route.mode
    return function guard (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
      const raw = request.raw as RawRequest
      const attempt: Attempt = { transport: null }
      const revocations = connections.revocations
      const accept = (identity: Identity | null): void => {
        if (identity === null) {
          raw[kHandshake] = { kind: 'deferred', request, route }
        } else {
          request.identity = identity
          raw[kHandshake] = { kind: 'accepted', identity, request, route, revocations }
          publishAuthenticated(identity, url, 'handshake')
        }
        done()
      }
      const reject = (thrown: unknown): void => {
        const error = toWsAuthError(thrown)
        refused(request, error, attempt.transport, route, 'handshake')
        if (mode === 'close' && request.ws) {
          raw[kHandshake] = { kind: 'rejected', error }
          done()
          return
        }
        const answer = httpAnswer(error, { realm, basic: basic !== null, invalidTokenStatus })
        // A reply from a callback hook ends the request there: `done` is not called.
        reply.code(answer.status).headers(answer.headers).send(answer.body)
      }
      let result: MaybePromise<Identity | null>
      try {
        result = authenticate(request, route, attempt)
      } catch (thrown) {
        reject(thrown)
        return
      }
      if (isPromise(result)) result.then(accept, reject)
      else accept(result)
    }
  }

  const exempt: preValidationHookHandler = async function exempt (request: FastifyRequest) {
    (request.raw as RawRequest)[kHandshake] = { kind: 'exempt' }
  }

  fastify.decorateRequest('identity', null)

  fastify.addHook('onRoute', (route) => {
    if (!isWebsocketRoute(route)) return
    const config = (route.config as { wsAuth?: false | WsAuthRouteOptions } | undefined)?.wsAuth
    if (config !== undefined && config !== false && (config.firstMessage === true || config.refresh === true)) {
      inBandRoute ??= route.url
    }
    appendHook(route, config === false ? exempt : createGuard(config ?? {}, route.url))
  })

  fastify.addHook('onReady', function checkInBandProtocol (done) {
    done(inBandRoute !== null && inBand === null
      ? new Error(`@wsauth/ws-bearer: ${inBandRoute} takes credentials in band (firstMessage or refresh); register @wsauth/first-message`)
      : undefined)
  })

  // No credential in a URL reaches the request log at any level: not the query transport's, and not one the guard
  // never reads (`?access_token=`), which a client that sent it still expects to stay secret.
  const parentFactory = fastify.childLoggerFactory
  const req = redactedRequestSerializer(queryName === null ? [] : [queryName])
  fastify.setChildLoggerFactory(function redactingChildLogger (logger, bindings, childOptions, rawRequest) {
    const serializers = { ...childOptions.serializers, req }
    return parentFactory.call(this, logger, bindings, { ...childOptions, serializers }, rawRequest)
  })

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
        const { code, reason } = closeAnswer(new WsAuthError('internal'))
        ws.close(code, reason)
        return
      }
      if (handshake.kind === 'rejected') {
        const { code, reason } = closeAnswer(handshake.error)
        ws.close(code, reason)
        return
      }
      if (handshake.kind === 'exempt') {
        callback(ws, upgraded)
      } else if (handshake.kind === 'accepted') {
        const { identity, request: fastifyRequest, route, revocations } = handshake
        handOver(ws, identity, fastifyRequest, route, revocations, false, () => callback(ws, upgraded))
      } else {
        // It answers its own failures by closing the socket: nothing to wait for here.
        authenticateInBand(ws, handshake.request, handshake.route, () => callback(ws, upgraded))
      }
    })
  }

  // In-band credentials are capped like every transport's.
  function checkLength (token: string): void {
    if (token.length > maxLength) throw new WsAuthError('malformed', 'credential too long')
  }

  /** A socket upgraded without a credential on a `firstMessage` route: the credential comes in its first message. */
  async function authenticateInBand (ws: WebSocket, request: FastifyRequest, route: GuardedRoute, deliver: () => void): Promise<void> {
    let identity: Identity
    let revocations: number
    try {
      const credential = await inBand!.awaitCredential(ws)
      if (credential.kind === 'token') checkLength(credential.token)
      revocations = connections.revocations
      identity = await verify(credential, request)
      await authorizeIdentity(identity, request, route)
    } catch (thrown) {
      const error = toWsAuthError(thrown)
      refused(request, error, 'first-message', route, 'first-message')
      const { code, reason } = closeAnswer(error)
      // The protocol may have paused reading while the credential was verified; a paused socket would not read the
      // client's closing handshake.
      ws.resume()
      ws.close(code, reason)
      return
    }
    // The socket closed while its credential was being verified; it must read on to finish closing.
    if (ws.readyState !== ws.OPEN) {
      ws.resume()
      return
    }
    request.identity = identity
    publishAuthenticated(identity, route.url, 'first-message')
    handOver(ws, identity, request, route, revocations, true, deliver)
  }

  /** Tracks an authenticated socket and hands it to the app's handler (`deliver`): the one way in for every transport. */
  function handOver (
    ws: WebSocket, identity: Identity, request: FastifyRequest, route: GuardedRoute, revocations: number,
    inBandAuthenticated: boolean, deliver: () => void
  ): void {
    const connection = connections.track(ws, identity, route.refresh ? inBand!.expiringNoticeMs : 0)
    // Tracking closes a token that expired since it was verified: the app never gets that socket, which must read on
    // (an in-band protocol may have paused it) to finish closing.
    if (ws.readyState !== ws.OPEN) {
      ws.resume()
      return
    }
    if (connections.revocations !== revocations) recheckRevocation(connection, request)
    const started = inBandAuthenticated || route.refresh ? inBand!.open(ws, new Session(connection, request, route)) : null
    deliver()
    started?.()
  }

  // A revocation ran while this credential was being verified, after its denylist check perhaps, and before its socket
  // was tracked where `disconnectToken` could reach it: ask the denylist again now that it is.
  function recheckRevocation (connection: Connection, request: FastifyRequest): void {
    const { tokenId } = connection.identity
    if (tokenId === null) return
    Promise.resolve().then(() => denyList.has(tokenId)).then((revoked) => {
      if (revoked) connections.closeTokenId(tokenId, 'revoked')
    }, (error: unknown) => {
      request.log.error({ err: error }, 'websocket authentication failed: %s', 'unavailable')
      connections.reject(connection, new WsAuthError('unavailable', undefined, { cause: error }))
    })
  }

  // A class, so that the socket's life costs three fields rather than a closure per method.
  class Session implements LiveSession {
    readonly #connection: Connection
    readonly #request: FastifyRequest
    readonly #route: GuardedRoute

    constructor (connection: Connection, request: FastifyRequest, route: GuardedRoute) {
      this.#connection = connection
      this.#request = request
      this.#route = route
    }

    get identity (): Identity {
      return this.#connection.identity
    }

    get refreshable (): boolean {
      return this.#route.refresh
    }

    refresh (token: string): Promise<Identity | null> {
      return refresh(this.#connection, this.#request, this.#route, token)
    }

    reject (error: WsAuthError): void {
      refused(this.#request, error, this.#connection.identity.transport, this.#route, 'refresh')
      connections.reject(this.#connection, error)
    }
  }

  async function refresh (connection: Connection, request: FastifyRequest, route: GuardedRoute, token: string): Promise<Identity | null> {
    const current = connection.identity
    const revocations = connections.revocations
    let identity: Identity
    try {
      checkLength(token)
      // The refreshed identity keeps the transport the socket authenticated by.
      identity = await verify({ kind: 'token', transport: current.transport, token }, request)
      if (identity.subject !== current.subject) throw new WsAuthError('forbidden', 'another subject')
      await authorizeIdentity(identity, request, route)
    } catch (thrown) {
      const error = toWsAuthError(thrown)
      refused(request, error, current.transport, route, 'refresh')
      connections.reject(connection, error)
      return null
    }
    if (!connections.renew(connection, identity)) return null
    if (connections.revocations !== revocations) recheckRevocation(connection, request)
    request.identity = identity
    publishRefreshed(identity)
    return identity
  }

  function disconnect (subject: string, outcome: Outcome = 'revoked'): number {
    return connections.closeSubject(subject, outcome)
  }

  function disconnectToken (tokenId: string, outcome: Outcome = 'revoked'): number {
    return connections.closeTokenId(tokenId, outcome)
  }

  const decorator: WsAuthGuard = {
    registerExtractor,
    registerInBandProtocol,
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
