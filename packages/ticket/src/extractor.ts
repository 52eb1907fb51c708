import type { FastifyRequest } from 'fastify'
import { WsAuthError, type Credential } from '@wsauth/core'
import { PRECEDENCE, queryValues, type Extractor, type IdentityInit, type WsAuthGuard } from '@wsauth/ws-bearer'
import { isTicket, ticketKey, type TicketGrant, type TicketStore } from './grant.js'

/** The query parameter that carries a ticket (`?ticket=`): a credential word, so every log line redacts it. */
export const TICKET_PARAM = 'ticket'
/** What comes before a ticket offered as a subprotocol (`wsauth.ticket.<ticket>`); the guard never lets it be echoed. */
export const TICKET_SUBPROTOCOL_PREFIX = 'wsauth.ticket.'

/**
 * The `ticket` transport: a ticket in `?ticket=` or in a `wsauth.ticket.<ticket>` subprotocol, redeemed from the store
 * exactly once. Its identity is the token's that minted it, so the token's expiry, revocation and `disconnect` apply to
 * the socket as to any other.
 */
export function ticketExtractor (guard: WsAuthGuard, store: TicketStore, endpoint: string): Extractor {
  return {
    transport: 'ticket',
    precedence: PRECEDENCE.ticket,
    extract (request: FastifyRequest): Credential | null {
      const inQuery = queryValues(request, TICKET_PARAM)
      const offer = guard.subprotocolOffer(request)
      const inProtocols = offer.claimed.get(TICKET_SUBPROTOCOL_PREFIX) ?? []
      // An empty `?ticket=` alone carries no credential, as an empty `?token=` does.
      if (inProtocols.length === 0 && (inQuery.length === 0 || (inQuery.length === 1 && inQuery[0] === ''))) return null
      if (inQuery.length + inProtocols.length > 1) throw new WsAuthError('malformed', 'more than one ticket')
      const ticket = inQuery[0] ?? inProtocols[0]!.slice(TICKET_SUBPROTOCOL_PREFIX.length)
      if (!isTicket(ticket)) throw new WsAuthError('malformed', 'malformed ticket')
      // A client that offered protocols fails a 101 that echoes none (and ws refuses an offer it can't parse), whatever
      // the ticket is worth: refused before the ticket is spent.
      if (offer.protocols.length > 0 || offer.claimed.size > 0) {
        const echoed = guard.echoedSubprotocol(request)
        if (echoed === null) throw new WsAuthError('malformed', 'malformed Sec-WebSocket-Protocol header')
        if (echoed === false) throw new WsAuthError('malformed', 'no supported subprotocol offered with the ticket')
      }
      return { kind: 'token', transport: 'ticket', token: ticket }
    },
    async verify (credential, request): Promise<IdentityInit | null> {
      if (credential.kind !== 'token') return null
      let grant: TicketGrant | null
      try {
        grant = await store.take(ticketKey(credential.token))
      } catch (error) {
        throw new WsAuthError('unavailable', undefined, { cause: error })
      }
      if (grant === null) return null
      // Spent either way: a ticket presented from the wrong place is burnt. A ticket minted without an Origin (by a
      // machine) is not one a page may use; a page's ticket is not one a machine may use.
      if (grant.origin !== (request.headers.origin ?? null)) throw new WsAuthError('forbidden', 'ticket minted for another origin')
      return { subject: grant.subject, scopes: grant.scopes, claims: grant.claims, expiresAt: grant.expiresAt, tokenId: grant.tokenId }
    },
    describe: () => ({ ticket: { endpoint, param: TICKET_PARAM, subprotocolPrefix: TICKET_SUBPROTOCOL_PREFIX } }),
  }
}
