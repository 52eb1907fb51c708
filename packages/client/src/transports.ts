import type { DiscoveryDocument, DiscoveryRoute } from '@wsauth/core'
import { FORMATS, type SubprotocolFormat } from '@wsauth/subprotocol-token/protocol'
import { WsAuthClientError } from './errors.js'

/** How the client hands the server its credential. */
export type TransportName = 'bearer' | 'ticket' | 'subprotocol' | 'first-message' | 'cookie' | 'query'

export interface Environment {
  /** The WebSocket constructor takes headers (the ws package in Node). */
  headers: boolean
  /** A page: the cookie transport's iframe can be loaded. */
  page: boolean
}

/**
 * The token format to offer: with application protocols, `wsauth` if the route takes it (else its first known format);
 * without, only JEP 121's, whose bare marker stands in for an application protocol. `null`: none fits.
 */
export function subprotocolFormat (route: DiscoveryRoute, protocols: readonly string[]): SubprotocolFormat | null {
  const listed = route.transports.subprotocol?.formats
  const formats = FORMATS.filter((format) => Array.isArray(listed) && listed.includes(format))
  if (protocols.length === 0) return formats.includes('jupyter') ? 'jupyter' : null
  return formats.includes('wsauth') ? 'wsauth' : formats[0] ?? null
}

function usable (name: TransportName, document: DiscoveryDocument, route: DiscoveryRoute, protocols: readonly string[], env: Environment): boolean {
  const { transports } = route
  switch (name) {
    case 'bearer': return env.headers && transports.bearer !== undefined
    case 'ticket': return typeof transports.ticket?.endpoint === 'string'
    case 'subprotocol': return subprotocolFormat(route, protocols) !== null
    case 'first-message': return route.firstMessage && document.inBand !== undefined
    case 'cookie': return env.page && typeof transports.cookie?.endpoint === 'string'
    case 'query': return typeof transports.query?.param === 'string'
  }
}

/**
 * The transport for a route: the app's, when it names one; otherwise the first the route accepts in this order. With
 * headers (Node): the Authorization header first. Then ticket, subprotocol, first message, cookie. The query string
 * only when asked for by name: it ends up in logs.
 */
export function chooseTransport (
  document: DiscoveryDocument, route: DiscoveryRoute, protocols: readonly string[], env: Environment, forced: TransportName | undefined
): TransportName {
  const order: TransportName[] = forced === undefined ? ['bearer', 'ticket', 'subprotocol', 'first-message', 'cookie'] : [forced]
  const chosen = order.find((name) => usable(name, document, route, protocols, env))
  if (chosen === undefined) throw new WsAuthClientError('unsupported', `${route.path}: no usable transport (${forced ?? 'any'})`)
  return chosen
}
