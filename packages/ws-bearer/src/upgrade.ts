import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { WebSocket, WebSocketServer } from 'ws'
import { WsAuthError, closeAnswer, redactQuery, type DenyList, type Identity } from '@wsauth/core'
import type { Connection, Connections } from './connections.js'
import { publishAuthenticated, publishRefreshed } from './events.js'
import type { InBandProtocol, LiveSession } from './options.js'
import { attempt, type Attempt, type GuardedRoute, type Pipeline } from './pipeline.js'

// What the handshake decided, kept on the raw request until ws completes the upgrade. `revocations` is the count taken
// before verifying (see `Connections.revocations`).
const kHandshake = Symbol('wsauth.handshake')
export type Handshake =
  | { kind: 'accepted', attempt: Attempt, identity: Identity, revocations: number }
  | { kind: 'deferred', attempt: Attempt }
  | { kind: 'rejected', error: WsAuthError }
  | { kind: 'exempt' }
type RawRequest = IncomingMessage & { [kHandshake]?: Handshake }

/** Keeps the handshake's decision for the moment after the 101. */
export function recordHandshake (request: FastifyRequest, handshake: Handshake): void {
  (request.raw as RawRequest)[kHandshake] = handshake
}

export interface LiveSettings {
  pipeline: Pipeline
  connections: Connections
  denyList: DenyList
  /** The in-band protocol, once @wsauth/first-message has registered it. */
  inBand: () => InBandProtocol | null
  log: FastifyBaseLogger
  /** Query parameters to redact from a URL in a log line. */
  redacted: readonly string[]
}

/**
 * Takes over what happens after the 101 and before the app's handler has the socket: close mode's close, first-message
 * authentication, tracking the live socket (expiry, revocation, refresh). @fastify/websocket upgrades inside its route
 * handler and then calls the app's handler; the ws server's `handleUpgrade` callback is the one place in between.
 */
export function takeOverUpgrades (wss: WebSocketServer, settings: LiveSettings): void {
  const { pipeline, connections, denyList, log, redacted } = settings
  const handleUpgrade = wss.handleUpgrade.bind(wss)
  wss.handleUpgrade = function guardedUpgrade (request, socket, head, callback) {
    handleUpgrade(request, socket, head, (ws: WebSocket, upgraded: IncomingMessage) => {
      ws.on('error', endHeldSocket)
      const deliver = (): void => {
        ws.off('error', endHeldSocket)
        callback(ws, upgraded)
      }
      const handshake = (request as RawRequest)[kHandshake]
      if (handshake === undefined) {
        // A websocket route registered before the guard: fail closed rather than serve it unauthenticated.
        log.error({ url: redactQuery(request.url ?? '', redacted) },
          'websocket route is not covered by @wsauth/ws-bearer; register the guard before the route')
        const { code, reason } = closeAnswer(new WsAuthError('internal'))
        ws.close(code, reason)
        return
      }
      if (handshake.kind === 'rejected') {
        const { code, reason } = closeAnswer(handshake.error)
        ws.close(code, reason)
      } else if (handshake.kind === 'exempt') {
        deliver()
      } else if (handshake.kind === 'accepted') {
        handOver(ws, handshake.attempt, handshake.identity, handshake.revocations, false, deliver)
      } else {
        // It answers its own failures by closing the socket: nothing to wait for here.
        authenticateInBand(ws, handshake.attempt, deliver)
      }
    })
  }

  // ws reports a bad frame (say, an unmasked one) as an 'error' event, which ends the process when nothing listens.
  // @fastify/websocket listens only from the moment it hands the socket to the app; until then (a refused socket
  // closing, one awaiting its first message) the guard does, and ends the socket: its client broke the protocol.
  function endHeldSocket (this: WebSocket, error: Error): void {
    log.debug({ err: { message: error.message } }, 'websocket protocol error before the app had the socket')
    this.terminate()
  }

  function inBand (): InBandProtocol {
    // The startup check (`onReady`) refuses routes that need the protocol when none is registered.
    return settings.inBand()!
  }

  /** A socket upgraded without a credential on a `firstMessage` route: the credential comes in its first message. */
  async function authenticateInBand (ws: WebSocket, handshake: Attempt, deliver: () => void): Promise<void> {
    const current = attempt(handshake.request, handshake.route, 'first-message')
    current.transport = 'first-message'
    let identity: Identity
    let revocations: number
    try {
      current.credential = await inBand().awaitCredential(ws)
      current.transport = current.credential.transport
      revocations = connections.revocations
      identity = await pipeline.judge(current)
    } catch (thrown) {
      const { code, reason } = closeAnswer(pipeline.refuse(current, thrown))
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
    current.request.identity = identity
    publishAuthenticated(identity, current.route!.url, 'first-message')
    handOver(ws, current, identity, revocations, true, deliver)
  }

  /** Tracks an authenticated socket and hands it to the app's handler (`deliver`): the one way in for every transport. */
  function handOver (
    ws: WebSocket, authenticated: Attempt, identity: Identity, revocations: number, inBandAuthenticated: boolean, deliver: () => void
  ): void {
    const route = authenticated.route!
    const connection = connections.track(ws, identity, {
      noticeMs: route.refresh ? inBand().expiringNoticeMs : 0,
      password: authenticated.credential?.kind === 'password',
    })
    // Tracking closes a token that expired since it was verified: the app never gets that socket, which must read on
    // (an in-band protocol may have paused it) to finish closing.
    if (ws.readyState !== ws.OPEN) {
      ws.resume()
      return
    }
    if (connections.revocations !== revocations) recheckRevocation(connection, authenticated)
    const session = new Session(connection, authenticated.request, route)
    const started = inBandAuthenticated || route.refresh ? inBand().open(ws, session) : null
    deliver()
    started?.()
  }

  // A revocation ran while this credential was being verified, after its denylist check perhaps, and before its socket
  // was tracked where `disconnectToken` could reach it: ask the denylist again now that it is.
  function recheckRevocation (connection: Connection, authenticated: Attempt): void {
    const { tokenId } = connection.identity
    if (tokenId === null) return
    Promise.resolve().then(() => denyList.has(tokenId)).then((revoked) => {
      if (revoked) connections.closeTokenId(tokenId, 'revoked')
    }, (error: unknown) => {
      connections.reject(connection, pipeline.refuse(authenticated, new WsAuthError('unavailable', undefined, { cause: error })))
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
      return refresh(this.#connection, this.#refreshAttempt(), token)
    }

    reject (error: WsAuthError): void {
      connections.reject(this.#connection, pipeline.refuse(this.#refreshAttempt(), error))
    }

    #refreshAttempt (): Attempt {
      const refreshing = attempt(this.#request, this.#route, 'refresh')
      refreshing.transport = this.#connection.identity.transport
      return refreshing
    }
  }

  async function refresh (connection: Connection, refreshing: Attempt, token: string): Promise<Identity | null> {
    const current = connection.identity
    const revocations = connections.revocations
    // The refreshed identity keeps the transport the socket authenticated by, and must name the same subject.
    refreshing.credential = { kind: 'token', transport: current.transport, token }
    refreshing.subject = current.subject
    let identity: Identity
    try {
      identity = await pipeline.judge(refreshing)
    } catch (thrown) {
      connections.reject(connection, pipeline.refuse(refreshing, thrown))
      return null
    }
    if (!connections.renew(connection, identity)) return null
    if (connections.revocations !== revocations) recheckRevocation(connection, refreshing)
    refreshing.request.identity = identity
    publishRefreshed(identity)
    return identity
  }
}
