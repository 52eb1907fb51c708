import type { FastifyInstance } from 'fastify'
import { OUTCOMES, type DiscoveryDocument } from '@wsauth/core'
import { DEFAULT_EXPIRING_NOTICE_MS, DEFAULT_MAX_PAYLOAD, DEFAULT_MESSAGE_NAMES, DEFAULT_TIMEOUT_MS } from '@wsauth/first-message'

export const DISCOVERY_PATH = '/.well-known/wsauth'

/**
 * The discovery document @wsauth/client reads, for the chat's one route. The guard is to serve this itself (issue 10
 * §1); until it does, the chat describes its route by hand, with the plugins' own defaults. When the guard serves it,
 * registering this route is a startup error (a second `GET` of the same path), and this file goes.
 */
export function registerDiscovery (app: FastifyInstance, route: { path: string, protocol: string }): void {
  const document: DiscoveryDocument = {
    wsauth: 1,
    endpoints: { token: '/token', revoke: '/revoke' },
    inBand: {
      timeoutMs: DEFAULT_TIMEOUT_MS,
      maxPayload: DEFAULT_MAX_PAYLOAD,
      expiringNoticeMs: DEFAULT_EXPIRING_NOTICE_MS,
      messages: { ...DEFAULT_MESSAGE_NAMES },
    },
    closeCodes: Object.entries(OUTCOMES).map(([outcome, rule]) => ({ outcome, code: rule.closeCode, reason: rule.reason })),
    routes: [{
      path: route.path,
      mode: 'close',
      protocols: [route.protocol],
      firstMessage: false,
      refresh: true,
      transports: { bearer: {}, subprotocol: { formats: ['jupyter', 'kubernetes', 'wsauth'] } },
    }],
  }
  app.get(DISCOVERY_PATH, async (_request, reply) => reply.header('cache-control', 'no-cache').send(document))
}
