import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify'
import type {} from '@fastify/websocket'
import fp from 'fastify-plugin'
import type { WebSocketServer } from 'ws'
import { WsAuthError, readOptions, type Credential } from '@wsauth/core'
import { PRECEDENCE, type WsAuthRouteOptions } from '@wsauth/ws-bearer'
import { parseOffer, selectProtocol, type ParsedOffer } from './offer.js'
import { FORMATS, JUPYTER_MARKER, TOKEN_PREFIXES, isApplicationProtocol } from './protocol.js'

declare module '@wsauth/core' {
  interface Transports {
    /** A token in `Sec-WebSocket-Protocol` (@wsauth/subprotocol-token). */
    subprotocol: true
  }
}

export interface SubprotocolTokenOptions {
  /** Which formats carry a credential; each is on unless set to `false`. */
  formats?: { jupyter?: boolean, kubernetes?: boolean, wsauth?: boolean }
  /**
   * The application subprotocols of routes that declare none in `config.wsAuth.protocols`. A route with neither
   * echoes no protocol, and a token offered to it is refused: a browser would fail the 101.
   */
  protocols?: string[]
}

// The parsed header and the request it belongs to, kept on the raw request for ws's protocol selection.
const kOffer = Symbol('wsauth.subprotocol-offer')
interface Offer { parsed: ParsedOffer, request: FastifyRequest }
type RawRequest = IncomingMessage & { [kOffer]?: Offer }

const NO_OFFER: ParsedOffer = Object.freeze({ protocols: [], token: null, error: null })
const PREFIXES = FORMATS.map((format) => TOKEN_PREFIXES[format])

const PLUGIN = '@wsauth/subprotocol-token'

/** What is wrong with a list of a route's protocols; `null` when nothing is. */
function protocolsProblem (protocols: unknown): string | null {
  if (!Array.isArray(protocols) || !protocols.every((protocol) => typeof protocol === 'string' && isApplicationProtocol(protocol))) {
    return 'must be a list of subprotocol names that carry no token'
  }
  if (protocols.includes(JUPYTER_MARKER)) return `must not list ${JUPYTER_MARKER}; it is echoed only for a JEP 121 token`
  if (new Set(protocols).size !== protocols.length) return 'lists a protocol twice'
  return null
}

function routeOptionsOf (config: unknown): WsAuthRouteOptions | undefined {
  const wsAuth = (config as { wsAuth?: false | WsAuthRouteOptions } | undefined)?.wsAuth
  return wsAuth === false ? undefined : wsAuth
}

async function subprotocolToken (fastify: FastifyInstance, options: SubprotocolTokenOptions): Promise<void> {
  const read = readOptions(PLUGIN, options, ['formats', 'protocols'])
  const switches = read.nested('formats', FORMATS)
  const formats = new Set(FORMATS.filter((format) => switches?.boolean(format, true) ?? true))
  const defaultProtocols: readonly string[] = read.stringList('protocols') ?? []
  const problem = protocolsProblem(defaultProtocols)
  if (problem !== null) throw read.error('protocols', problem)

  function supportedBy (request: FastifyRequest): readonly string[] {
    return routeOptionsOf(request.routeOptions.config)?.protocols ?? defaultProtocols
  }

  // Read once per request, on first use, from the guard's parse of the header, which took the token protocols out of
  // the request's headers: neither ws (which would echo the first offer) nor the app's hooks and handler see them.
  function offerOf (request: FastifyRequest): ParsedOffer {
    const raw = request.raw as RawRequest
    const cached = raw[kOffer]
    if (cached !== undefined) return cached.parsed
    const offer = fastify.wsAuth.subprotocolOffer(request)
    if (offer.protocols.length === 0 && offer.claimed.size === 0) return NO_OFFER
    const tokenProtocols = PREFIXES.flatMap((prefix) => offer.claimed.get(prefix) ?? [])
    const parsed = parseOffer(offer.protocols, tokenProtocols, formats)
    raw[kOffer] = { parsed, request }
    return parsed
  }
  fastify.wsAuth.registerExtractor({
    transport: 'subprotocol',
    precedence: PRECEDENCE.subprotocol,
    extract (request): Credential | null {
      const parsed = offerOf(request)
      if (parsed.error !== null) throw parsed.error
      if (parsed.token === null) return null
      // Checked before verifying: with nothing to echo, a browser fails the 101 whatever the token is worth.
      if (selectProtocol(parsed.protocols, supportedBy(request), parsed.token.format === 'jupyter') === false) {
        throw new WsAuthError('malformed', 'no supported subprotocol offered with the token')
      }
      return { kind: 'token', transport: 'subprotocol', token: parsed.token.value }
    },
    // Without an application protocol to echo, only JEP 121's marker stands in for one: the other formats are refused.
    describe (route) {
      const usable = route.protocols.length > 0 ? [...formats] : [...formats].filter((format) => format === 'jupyter')
      return usable.length === 0 ? null : { subprotocol: { formats: usable } }
    },
  })
  for (const prefix of PREFIXES) fastify.wsAuth.claimSubprotocols(prefix)
  fastify.wsAuth.addDiscovery({ protocols: defaultProtocols })

  const wss = (fastify as FastifyInstance & { websocketServer: WebSocketServer }).websocketServer
  if (wss.options.handleProtocols != null) {
    throw new Error('@wsauth/subprotocol-token chooses the subprotocol itself; declare routes\' protocols instead of `handleProtocols`')
  }

  fastify.addHook('onRequest', function readOffer (request, _reply, done) {
    offerOf(request)
    done()
  })

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const protocols = routeOptionsOf(route.config)?.protocols
    const routeProblem = protocols === undefined ? null : protocolsProblem(protocols)
    if (routeProblem !== null) throw new Error(`${PLUGIN}: config.wsAuth.protocols of ${String(route.method)} ${route.url} ${routeProblem}`)
  })

  // ws reads this option at every upgrade. Close mode upgrades rejected handshakes too, and still echoes a supported
  // offer, so that a browser opens the socket and sees the close code.
  wss.options.handleProtocols = function handleProtocols (_offered: Set<string>, raw: IncomingMessage): string | false {
    const offer = (raw as RawRequest)[kOffer]
    // No offer parsed: the request never ran this plugin's hook (a route outside its scope), so nothing is known to
    // be safe to echo.
    if (offer === undefined) return false
    const { parsed, request } = offer
    const markerAccepted = parsed.token?.format === 'jupyter' && request.identity?.transport === 'subprotocol'
    return selectProtocol(parsed.protocols, supportedBy(request), markerAccepted)
  }
}

export default fp(subprotocolToken, {
  name: '@wsauth/subprotocol-token',
  fastify: '5.x',
  dependencies: ['@wsauth/ws-bearer'],
})
