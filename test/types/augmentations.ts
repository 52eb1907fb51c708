// Type tests for what the packages add to Fastify's types (module augmentation). Checked by `pnpm typecheck`
// (tsconfig.check.json) and never run: every `expectTypeOf` is a compile-time assertion, and each `@ts-expect-error`
// line must fail to compile, or the typecheck fails. Only the packages' public entry points are imported.
import type { FastifyContextConfig, FastifyInstance, FastifyRequest, RouteShorthandOptions } from 'fastify'
import { expectTypeOf } from 'expect-type'
import type { DiscoveryRoute, DiscoveryTransports, Identity, SingleUseStore, Transport } from '@wsauth/core'
import type {
  DescribedRoute, DiscoveryPart, Extractor, IdentityInit, SubprotocolOffer, WsAuthGuard, WsAuthRouteOptions,
} from '@wsauth/ws-bearer'
import type { TicketGrant, TicketOptions, TicketStore } from '@wsauth/ticket'
import { OAuthError, type GrantContext, type GrantHandler, type OAuthErrorCode, type PasswordBearer, type TokenResponse } from '@wsauth/password-bearer'

declare const request: FastifyRequest
declare const app: FastifyInstance

// request.identity: who is on the socket, or null off the guard's routes.
expectTypeOf(request.identity).toEqualTypeOf<Identity | null>()
expectTypeOf(request.identity).not.toBeAny()
expectTypeOf<Identity['subject']>().toBeString()
expectTypeOf<Identity['scopes']>().toEqualTypeOf<readonly string[]>()
expectTypeOf<Identity['expiresAt']>().toEqualTypeOf<number | null>()
expectTypeOf<Identity['tokenId']>().toEqualTypeOf<string | null>()
expectTypeOf<Identity['transport']>().toExtend<string>()
// @ts-expect-error the subject is a string, never a number
expectTypeOf<Identity['subject']>().toBeNumber()
// @ts-expect-error identity may be null: read it only after a check
expectTypeOf(request.identity).toEqualTypeOf<Identity>()
// @ts-expect-error a subject is not assignable to a number
export const subjectAsNumber: number = request.identity!.subject
// @ts-expect-error scopes are read-only
request.identity!.scopes.push('admin')

// config.wsAuth: per-route guard settings, or false to opt a websocket route out.
expectTypeOf<FastifyContextConfig['wsAuth']>().toEqualTypeOf<false | WsAuthRouteOptions | undefined>()
expectTypeOf<WsAuthRouteOptions['mode']>().toEqualTypeOf<'http' | 'close' | undefined>()
export const closeMode: RouteShorthandOptions = { config: { wsAuth: { mode: 'close' } } }
export const optedOut: RouteShorthandOptions = { config: { wsAuth: false } }
export const everyRouteOption: RouteShorthandOptions = {
  config: { wsAuth: { mode: 'http', authorize: (identity) => identity.scopes.includes('chat'), protocols: ['chat.v1'], firstMessage: true, refresh: true } },
}
// @ts-expect-error a mode is spelt exactly: 'close', not 'Close'
export const wrongCase: RouteShorthandOptions = { config: { wsAuth: { mode: 'Close' } } }
// @ts-expect-error `true` is not a way to turn the guard on: routes are guarded unless they say `false`
export const wsAuthTrue: RouteShorthandOptions = { config: { wsAuth: true } }
// @ts-expect-error protocols are a list
export const oneProtocol: RouteShorthandOptions = { config: { wsAuth: { protocols: 'chat.v1' } } }
// @ts-expect-error an authorizer answers a boolean
export const authorizeString: RouteShorthandOptions = { config: { wsAuth: { authorize: () => 'yes' } } }

// fastify.wsAuth: the guard's decorator.
expectTypeOf(app.wsAuth).toEqualTypeOf<WsAuthGuard>()
expectTypeOf(app.wsAuth.disconnect).parameters.toEqualTypeOf<[subject: string, outcome?: 'revoked' | 'withdrawn']>()
expectTypeOf(app.wsAuth.disconnect).returns.toBeNumber()
expectTypeOf(app.wsAuth.disconnectToken).returns.toBeNumber()
expectTypeOf(app.wsAuth.revokeToken).parameters.toEqualTypeOf<[tokenId: string, expiresAt: number | null, options?: { subject?: string }]>()
expectTypeOf(app.wsAuth.disconnectPasswords).parameters.toEqualTypeOf<[subject: string, outcome?: 'revoked' | 'withdrawn']>()
expectTypeOf(app.wsAuth.disconnectPasswords).returns.toBeNumber()
expectTypeOf(app.wsAuth.revokeToken).returns.resolves.toBeNumber()
expectTypeOf(app.wsAuth.connectionCount).toEqualTypeOf<(subject?: string) => number>()
expectTypeOf(app.wsAuth.verifyToken).returns.resolves.toEqualTypeOf<Identity>()
// @ts-expect-error a subject is a string
app.wsAuth.disconnect(42)
// @ts-expect-error the outcomes of a disconnect are 'revoked' and 'withdrawn'
app.wsAuth.disconnect('alice', 'expired')
// @ts-expect-error revokeToken needs the token's expiry (null: none)
app.wsAuth.revokeToken('jti-1')
// @ts-expect-error the subject of a revocation is a string
app.wsAuth.revokeToken('jti-1', null, { subject: 42 })
// @ts-expect-error the transport is a name in core's Transports: a package adds one by declaration merging
app.wsAuth.verifyToken('token', request, 'carrier-pigeon')

// The discovery document: a transport describes its part of a route's entry; a plugin adds endpoints.
expectTypeOf(app.wsAuth.addDiscovery).parameters.toEqualTypeOf<[part: DiscoveryPart]>()
expectTypeOf<ReturnType<NonNullable<Extractor['describe']>>>().toEqualTypeOf<Partial<DiscoveryTransports> | null>()
expectTypeOf<DescribedRoute>().toEqualTypeOf<Omit<DiscoveryRoute, 'transports'>>()
app.wsAuth.addDiscovery({ endpoints: { token: '/token' }, protocols: ['chat.v1'] })
// @ts-expect-error an endpoint is a path, a string
app.wsAuth.addDiscovery({ endpoints: { token: true } })
// @ts-expect-error a transport that no package declared in DiscoveryTransports has no part to describe
export const undeclared: Partial<DiscoveryTransports> = { 'smoke-signal': {} }
// @ts-expect-error the query transport's part names its parameter
export const queryWithoutParam: Extractor['describe'] = () => ({ query: {} })

// Subprotocols: a transport claims a prefix; the guard's one parse of the header hands the claimed protocols over.
expectTypeOf(app.wsAuth.claimSubprotocols).toEqualTypeOf<(prefix: string) => void>()
expectTypeOf(app.wsAuth.subprotocolOffer).returns.toEqualTypeOf<SubprotocolOffer>()
expectTypeOf(app.wsAuth.echoedSubprotocol).toEqualTypeOf<(request: FastifyRequest) => string | false | null>()
expectTypeOf<SubprotocolOffer['claimed']>().toEqualTypeOf<ReadonlyMap<string, readonly string[]>>()
expectTypeOf(app.wsAuth.clock).returns.toBeNumber()

// @wsauth/ticket: its transport joins core's Transports; its store is core's SingleUseStore of plain data.
expectTypeOf<'ticket'>().toExtend<Transport>()
app.wsAuth.verifyToken('token', request, 'ticket')
expectTypeOf<TicketStore>().toEqualTypeOf<SingleUseStore<TicketGrant>>()
expectTypeOf<TicketOptions['store']>().toEqualTypeOf<TicketStore | undefined>()
// @ts-expect-error a ticket's lifetime is a number of seconds
export const lifetimeAsText: TicketOptions = { lifetime: '30s' }

// fastify.passwordBearer: the password grant's decorator.
expectTypeOf(app.passwordBearer).toEqualTypeOf<PasswordBearer>()
expectTypeOf(app.passwordBearer.issueTokens).returns.resolves.toEqualTypeOf<TokenResponse>()
expectTypeOf(app.passwordBearer.authenticateUser).parameters.toEqualTypeOf<[username: string, password: string, request: FastifyRequest]>()
expectTypeOf(app.passwordBearer.authenticateUser).returns.resolves.toEqualTypeOf<IdentityInit | null>()
expectTypeOf(app.passwordBearer.revokeFamilyOf).returns.resolves.toBeBoolean()
expectTypeOf<TokenResponse['token_type']>().toEqualTypeOf<'Bearer'>()
// @ts-expect-error scopes are a list, not a space-separated string
app.passwordBearer.issueTokens('alice', 'chat')
// @ts-expect-error authenticateUser needs the request, for the throttle
app.passwordBearer.authenticateUser('alice', 'secret')

// fastify.passwordBearer.addGrant: another plugin's grant type; password-bearer issues the tokens.
expectTypeOf(app.passwordBearer.addGrant).parameters.toEqualTypeOf<[grantType: string, handler: GrantHandler]>()
expectTypeOf<GrantContext['params']>().toEqualTypeOf<Readonly<Record<string, unknown>>>()
expectTypeOf<GrantContext['request']>().toEqualTypeOf<FastifyRequest>()
expectTypeOf<GrantContext['clientId']>().toEqualTypeOf<string | null>()
expectTypeOf<GrantHandler>().returns.resolves.toEqualTypeOf<{ subject: string, scopes: string[] }>()
expectTypeOf<OAuthError['error']>().toEqualTypeOf<OAuthErrorCode>()
// @ts-expect-error a handler resolves who signed in and the scopes, never the tokens themselves
app.passwordBearer.addGrant('authorization_code', async () => ({ access_token: 'eyJ…' }))
// @ts-expect-error scopes are a list, not a space-separated string
app.passwordBearer.addGrant('authorization_code', async () => ({ subject: 'alice', scopes: 'chat' }))
// @ts-expect-error OAuthError takes a code of RFC 6749 §5.2
expectTypeOf(new OAuthError('access_denied', 'denied')).toEqualTypeOf<OAuthError>()
