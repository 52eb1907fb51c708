import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type {} from '@wsauth/ws-bearer'
import { mintRoutes } from './endpoint.js'
import { TICKET_SUBPROTOCOL_PREFIX, ticketExtractor } from './extractor.js'
import { readTicketOptions, type TicketOptions } from './options.js'

declare module '@wsauth/core' {
  interface Transports {
    /** A single-use ticket (@wsauth/ticket), in `?ticket=` or a `wsauth.ticket.<ticket>` subprotocol. */
    ticket: true
  }
}

async function ticket (fastify: FastifyInstance, options: TicketOptions): Promise<void> {
  const guard = fastify.wsAuth
  const settings = readTicketOptions(options, guard.stores)
  // The endpoint's path on the server: the path under the context the plugin is registered in.
  const endpoint = fastify.prefix + settings.path
  guard.registerExtractor(ticketExtractor(guard, settings.store, endpoint))
  guard.claimSubprotocols(TICKET_SUBPROTOCOL_PREFIX)
  guard.addDiscovery({ endpoints: { ticket: endpoint } })
  await mintRoutes(fastify, settings)
}

export default fp(ticket, {
  name: '@wsauth/ticket',
  fastify: '5.x',
  dependencies: ['@wsauth/ws-bearer'],
})
