import plugin from './plugin.js'

export default plugin
export { plugin as ticket }
export { DEFAULT_LIFETIME, DEFAULT_PATH, DEFAULT_RATE_LIMIT, MAX_LIFETIME, type TicketOptions } from './options.js'
export { TICKET_PARAM, TICKET_SUBPROTOCOL_PREFIX } from './extractor.js'
export { ticketKey, type TicketGrant, type TicketStore } from './grant.js'
