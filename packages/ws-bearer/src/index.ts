import type { Identity } from '@wsauth/core'
import plugin, { type WsAuthGuard } from './plugin.js'
import type { WsAuthRouteOptions } from './options.js'

declare module 'fastify' {
  interface FastifyInstance {
    wsAuth: WsAuthGuard
  }
  interface FastifyRequest {
    /** Who is on the socket; set by the guard on every route it covers, `null` elsewhere. */
    identity: Identity | null
  }
  interface FastifyContextConfig {
    /** Per-route guard settings; `false` opts a websocket route out. */
    wsAuth?: false | WsAuthRouteOptions
  }
}

export default plugin
export { plugin as wsBearer, type WsAuthGuard }
export { PRECEDENCE, queryValues } from './extractors.js'
export type { SubprotocolOffer } from './subprotocols.js'
export { refuseRequest } from './refusal.js'
export { takeNoBody } from './no-body.js'
export { DISCOVERY_PATH, type DescribedRoute, type DiscoveryPart } from './discovery.js'
export { VERIFIED_TOKENS_MAX, VERIFIED_TOKENS_TTL_MS, identityFromClaims } from './verifier.js'
export { EXPIRY_TICK_MS } from './connections.js'
export { ASYMMETRIC_ALGORITHMS, externalIssuerVerifier, jwtVerifier, type AsymmetricAlgorithm, type ExternalIssuerOptions } from './external-issuer.js'
export { RemoteKeySet, type RemoteKeySetOptions } from './jwks.js'
export { UpstreamError, fetchJson, type UpstreamFailure } from './remote-json.js'
export { CHANNELS, type AuthenticatedEvent, type FailedEvent, type LiveSocketEvent, type Phase, type RevokedEvent } from './events.js'
export { DEFAULT_BASIC_LIFETIME } from './options.js'
export type {
  Authorizer, BasicOptions, CredentialVerifier, Extractor, IdentityInit, InBandProtocol, LiveSession, Mode, PasswordVerifier, TokenVerifier, WsAuthOptions,
  WsAuthRouteOptions,
} from './options.js'
