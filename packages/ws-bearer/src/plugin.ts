import type {
  FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions, onRequestHookHandler, preValidationHookHandler,
} from 'fastify'
import type {} from '@fastify/websocket'
import fp from 'fastify-plugin'
import type { WebSocketServer } from 'ws'
import {
  redactedRequestSerializer,
  type Clock, type DenyList, type Identity, type OriginAllowlist, type RevocationOutcome, type Transport, type WsAuthStores,
} from '@wsauth/core'
import { Connections } from './connections.js'
import { DiscoveryCollector, serveDiscovery, type DiscoveryPart } from './discovery.js'
import { publishAuthenticated } from './events.js'
import { authorizationExtractor, queryExtractor } from './extractors.js'
import { isPromise, type MaybePromise } from './maybe-async.js'
import { readGuardOptions, readRouteOptions, type Extractor, type InBandProtocol, type WsAuthOptions } from './options.js'
import { Pipeline, attempt, type GuardedRoute } from './pipeline.js'
import { holdUpgradesBehindResponses } from './pipelined-upgrades.js'
import { Revocations } from './revocations.js'
import { SubprotocolClaims, echoedProtocol, type ProtocolChooser, type SubprotocolOffer } from './subprotocols.js'
import { recordHandshake, takeOverUpgrades } from './upgrade.js'
import { createTokenVerifier } from './verifier.js'

/** The guard's decorator: `fastify.wsAuth`. */
export interface WsAuthGuard {
  /** Adds a transport (subprotocol, cookie, ticket, …); extractors run in `precedence` order. */
  registerExtractor (extractor: Extractor): void
  /** Plugs in the in-band messages of `firstMessage` and `refresh` routes (@wsauth/first-message); one per guard. */
  registerInBandProtocol (protocol: InBandProtocol): void
  /**
   * Claims the offered subprotocols that start with `prefix` for a transport that carries its credential in one: the
   * guard takes them out of every request before ws or the app see them, so none is ever echoed in the 101.
   */
  claimSubprotocols (prefix: string): void
  /** The request's `Sec-WebSocket-Protocol`, parsed once: the protocols the app may see, and the claimed ones by prefix. */
  subprotocolOffer (request: FastifyRequest): SubprotocolOffer
  /**
   * The protocol the 101 will echo for the request's offer (as ws chooses it, through `handleProtocols` if set); `false`
   * for none, `null` when ws will refuse the offer. For transports that spend a credential: a client that offered
   * protocols fails a 101 that echoes none, whatever its credential was worth.
   */
  echoedSubprotocol (request: FastifyRequest): string | false | null
  /** Adds a plugin's endpoints (and default subprotocols) to the discovery document; before the server is ready. */
  addDiscovery (part: DiscoveryPart): void
  /** Verifies a token as the handshake would (length cap and denylist included), for routes that take tokens another way. */
  verifyToken (token: string, request: FastifyRequest, transport: Transport): Promise<Identity>
  /**
   * Closes a subject's live sockets: 4401 `token revoked`, or 4403 when access was withdrawn. Those on this node at
   * once (the count returned), those on other nodes through the bus; a bus that fails is logged.
   */
  disconnect (subject: string, outcome?: RevocationOutcome): number
  /** Closes the live sockets authenticated with one token id, on this node (the count returned) and through the bus. */
  disconnectToken (tokenId: string, outcome?: RevocationOutcome): number
  /** Closes the live sockets a subject opened with a username and password (they carry no token id), on every node. */
  disconnectPasswords (subject: string, outcome?: RevocationOutcome): number
  /**
   * Adds a token id to the denylist until `expiresAt`, then closes its sockets on every node (the count returned is
   * this node's). With `subject` (the token's), the subject's password-authenticated sockets close too: revoking any
   * of a user's tokens is a logout. Rejects with `unavailable` (503) when the denylist can't be written; a node the
   * bus misses still refuses the token through the denylist.
   */
  revokeToken (tokenId: string, expiresAt: number | null, options?: { subject?: string }): Promise<number>
  /** Live authenticated sockets on this node (of one subject, when given). */
  connectionCount (subject?: string): number
  /** The stores the guard uses; the other wsauth plugins take theirs from here. */
  readonly stores: WsAuthStores
  readonly denyList: DenyList
  readonly origins: OriginAllowlist | null
  /** The guard's clock (its `clock` option), for plugins whose expiries must agree with the guard's. */
  readonly clock: Clock
}

function isWebsocketRoute (route: RouteOptions): boolean {
  const options = route as RouteOptions & { websocket?: boolean, wsHandler?: unknown }
  return options.websocket === true || typeof options.wsHandler === 'function'
}

function prependHook<H> (route: RouteOptions, name: 'onRequest' | 'preValidation', hook: H): void {
  const existing = route[name] as H | H[] | undefined
  ;(route as unknown as Record<string, H[]>)[name] = existing === undefined ? [hook] : [hook, ...(Array.isArray(existing) ? existing : [existing])]
}

// An upgrade request to a route that speaks plain HTTP: nothing there to upgrade to. @fastify/websocket would send a
// 101 and close the socket; this answers before the upgrade, as it answers a plain request to a websocket route.
const refuseUpgrade: onRequestHookHandler = function refuseUpgrade (request, reply, done) {
  if (request.ws) reply.code(404).send()
  else done()
}

// Only a GET upgrades (RFC 6455 §4.1): a HEAD upgrade on a websocket route (Fastify's HEAD twin of it, or a route that
// lists both methods) is refused before any credential is read, so that a single-use one (a ticket) is not spent on a
// request ws would then refuse. Plain HEAD requests still pass the guard, as GET requests to the route do.
const refuseUpgradeByHead: onRequestHookHandler = function refuseUpgradeByHead (request, reply, done) {
  if (request.ws && request.method !== 'GET') reply.code(404).send()
  else done()
}

const exempt: preValidationHookHandler = function exempt (request, _reply, done) {
  recordHandshake(request, { kind: 'exempt' })
  done()
}

async function wsBearer (fastify: FastifyInstance, options: WsAuthOptions): Promise<void> {
  const settings = readGuardOptions(options)
  const { basic, queryName, origins, stores, clock } = settings
  const { denyList, bus } = stores
  const pipeline = new Pipeline({
    origins,
    maxCredentialLength: settings.maxCredentialLength,
    verifyToken: createTokenVerifier(fastify, settings.verify, settings.jwtNamespace, clock),
    verifyPassword: basic?.verifyPassword,
    passwordLifetimeMs: basic?.lifetimeMs ?? 0,
    denyList,
    clock,
    challenge: { realm: settings.realm, basic: basic !== null, invalidTokenStatus: settings.invalidTokenStatus },
  })
  pipeline.register(authorizationExtractor(basic))
  if (queryName !== null) pipeline.register(queryExtractor(queryName))
  let inBand: InBandProtocol | null = null
  const connections = new Connections({ now: clock, onExpiring: (socket, identity) => inBand?.expiring(socket, identity) })
  // A route that needs the in-band protocol, for the startup check.
  let inBandRoute: string | null = null
  const discovery = new DiscoveryCollector()
  const subprotocols = new SubprotocolClaims()

  // One hook per route, with the route's settings bound once rather than looked up on every handshake.
  function createGuard (route: GuardedRoute): preValidationHookHandler {
    return function guard (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
      const handshake = attempt(request, route, 'handshake')
      const revocations = connections.revocations
      const accept = (identity: Identity | null): void => {
        if (identity === null) {
          recordHandshake(request, { kind: 'deferred', attempt: handshake })
        } else {
          request.identity = identity
          recordHandshake(request, { kind: 'accepted', attempt: handshake, identity, revocations })
          publishAuthenticated(identity, route.url, 'handshake')
        }
        done()
      }
      const reject = (thrown: unknown): void => {
        const error = pipeline.refuse(handshake, thrown)
        if (route.mode === 'close' && request.ws) {
          recordHandshake(request, { kind: 'rejected', error })
          done()
          return
        }
        const answer = pipeline.httpAnswer(error)
        // A reply from a callback hook ends the request there: `done` is not called.
        reply.code(answer.status).headers(answer.headers).send(answer.body)
      }
      let result: MaybePromise<Identity | null>
      try {
        result = pipeline.authenticate(handshake)
      } catch (thrown) {
        reject(thrown)
        return
      }
      if (isPromise(result)) result.then(accept, reject)
      else accept(result)
    }
  }

  fastify.decorateRequest('identity', null)

  // Before any route's hooks: claimed protocols are gone before the app's own hooks could see one.
  fastify.addHook('onRequest', function takeOutClaimedSubprotocols (request, _reply, done) {
    if (subprotocols.size > 0 && request.raw.headers['sec-websocket-protocol'] !== undefined) subprotocols.offerOf(request.raw)
    done()
  })

  fastify.addHook('onRoute', (route) => {
    if (!isWebsocketRoute(route)) {
      prependHook(route, 'onRequest', refuseUpgrade)
      return
    }
    prependHook(route, 'onRequest', refuseUpgradeByHead)
    const config = (route.config as { wsAuth?: unknown } | undefined)?.wsAuth
    if (config === false) {
      prependHook(route, 'preValidation', exempt)
      return
    }
    const routeOptions = readRouteOptions(config, route.method, route.url)
    if (routeOptions.firstMessage === true || routeOptions.refresh === true) inBandRoute ??= route.url
    const guarded: GuardedRoute = {
      url: route.url,
      mode: routeOptions.mode ?? settings.mode,
      authorize: routeOptions.authorize ?? settings.authorize,
      firstMessage: routeOptions.firstMessage === true,
      refresh: routeOptions.refresh === true,
    }
    prependHook(route, 'preValidation', createGuard(guarded))
    // Listed once: Fastify adds a HEAD route of its own for every GET route, which upgrades nothing.
    if ([route.method].flat().includes('GET')) {
      const { url: path, mode, firstMessage, refresh } = guarded
      discovery.addRoute({ path, mode, firstMessage, refresh, protocols: routeOptions.protocols })
    }
  })
  if (settings.discoveryPath !== null) {
    serveDiscovery(fastify, settings.discoveryPath, () => discovery.build(pipeline.extractors, inBand?.discovery ?? null))
  }

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

  const wss = (fastify as FastifyInstance & { websocketServer: WebSocketServer }).websocketServer
  takeOverUpgrades(wss, {
    pipeline,
    connections,
    denyList,
    inBand: () => inBand,
    log: fastify.log,
    redacted: queryName === null ? [] : [queryName],
  })

  // Every wsauth app registers the guard, after @fastify/websocket: the place to fix how the latter treats an upgrade
  // pipelined behind a response (see pipelined-upgrades.ts).
  const releaseUpgrades = holdUpgradesBehindResponses(fastify.server)
  fastify.addHook('preClose', function stopHoldingUpgrades (done) {
    releaseUpgrades()
    done()
  })

  const revoker = new Revocations(connections, denyList, bus, fastify.log)
  fastify.addHook('onClose', function stopRevocations (_instance, done) {
    revoker.stop()
    done()
  })

  const decorator: WsAuthGuard = {
    registerExtractor (extractor) {
      pipeline.register(extractor)
    },
    registerInBandProtocol (protocol) {
      if (inBand !== null) throw new Error('@wsauth/ws-bearer: an in-band protocol is already registered')
      inBand = protocol
    },
    claimSubprotocols (prefix) {
      subprotocols.claim(prefix)
    },
    subprotocolOffer (request) {
      return subprotocols.offerOf(request.raw)
    },
    echoedSubprotocol (request) {
      return echoedProtocol(subprotocols.offerOf(request.raw), request.raw, wss.options.handleProtocols as ProtocolChooser | null | undefined)
    },
    addDiscovery (part) {
      discovery.add(part)
    },
    async verifyToken (token, request, transport) {
      const check = attempt(request, null, 'handshake')
      check.transport = transport
      check.credential = { kind: 'token', transport, token }
      return await pipeline.judge(check)
    },
    disconnect (subject, outcome = 'revoked') {
      return revoker.disconnect({ kind: 'subject', subject, outcome })
    },
    disconnectToken (tokenId, outcome = 'revoked') {
      return revoker.disconnect({ kind: 'token', tokenId, outcome })
    },
    disconnectPasswords (subject, outcome = 'revoked') {
      return revoker.disconnect({ kind: 'passwords', subject, outcome })
    },
    async revokeToken (tokenId, expiresAt, revokeOptions = {}) {
      return await revoker.revokeToken(tokenId, expiresAt, revokeOptions.subject)
    },
    connectionCount (subject) {
      return subject === undefined ? connections.size : connections.countSubject(subject)
    },
    stores,
    denyList,
    origins,
    clock,
  }
  fastify.decorate('wsAuth', decorator)
}

export default fp(wsBearer, {
  name: '@wsauth/ws-bearer',
  fastify: '5.x',
  dependencies: ['@fastify/websocket'],
})
