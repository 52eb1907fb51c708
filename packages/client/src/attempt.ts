import type { DiscoveryRoute } from '@wsauth/core'
import { subprotocolsWithToken } from '@wsauth/subprotocol-token/protocol'
import { setCookie } from './cookie.js'
import { credential, type TokenReason } from './credential.js'
import { jwtExpiry } from './expiry.js'
import type { ConnectOptions } from './options.js'
import type { Request } from './request.js'
import { addTicket, fetchTicket } from './ticket.js'
import { subprotocolFormat, type TransportName } from './transports.js'

/** What one socket is opened with: its credential placed where `transport` puts it. */
export interface SocketPlan {
  url: string
  protocols: string[]
  /** The Authorization header (Node). */
  headers: Record<string, string> | undefined
  /** The token to send as the first message once the socket opens. */
  inBandToken: string | null
  /** The token's `exp`, in epoch ms, when it is a JWT: when to renew. */
  expiresAt: number | null
}

export interface PlanContext {
  url: string
  /** The socket's origin, over HTTP: where the ticket and cookie endpoints are. */
  origin: string
  route: DiscoveryRoute
  transport: TransportName
  protocols: string[]
  reason: TokenReason
  options: ConnectOptions
  request: Request
}

/**
 * A fresh credential for this attempt, from `getTicket` or `getToken` (a token pays for a ticket or a cookie at its
 * endpoint), placed for the transport.
 */
export async function planSocket ({ url: address, origin, route, transport, protocols, reason, options, request }: PlanContext): Promise<SocketPlan> {
  const plan: SocketPlan = { url: address, protocols: [...protocols], headers: undefined, inBandToken: null, expiresAt: null }
  const url = new URL(address)
  const { transports } = route
  if (transport === 'ticket' && options.getTicket !== undefined) {
    addTicket(route, url, plan.protocols, await credential(options.getTicket, reason))
  } else {
    const token = await credential(options.getToken, reason)
    plan.expiresAt = jwtExpiry(token)
    if (transport === 'bearer') plan.headers = { authorization: `Bearer ${token}` }
    if (transport === 'query') url.searchParams.set(transports.query!.param, token)
    if (transport === 'subprotocol') plan.protocols = subprotocolsWithToken(token, subprotocolFormat(route, protocols)!, protocols)
    if (transport === 'first-message') plan.inBandToken = token
    if (transport === 'ticket') addTicket(route, url, plan.protocols, await fetchTicket(request, new URL(transports.ticket!.endpoint, origin), token))
    if (transport === 'cookie') await setCookie(new URL(transports.cookie!.endpoint, origin), token, options.requestTimeoutMs ?? 10_000)
  }
  plan.url = url.href
  return plan
}
