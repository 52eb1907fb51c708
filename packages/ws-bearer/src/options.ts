import type { FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import {
  DEFAULT_MAX_CREDENTIAL_LENGTH, OriginAllowlist, isWsAuthStores, memoryStores, normaliseOrigin, readOptions,
  type WsAuthStores, type Clock, type Credential, type DenyList, type DiscoveryInBand, type DiscoveryTransports, type Identity, type OptionsReader,
  type Transport, type WsAuthError,
} from '@wsauth/core'
import { DISCOVERY_PATH, type DescribedRoute } from './discovery.js'

/** What a verifier returns: an identity before the guard fills in the transport and defaults. */
export interface IdentityInit {
  subject: string
  scopes?: string[]
  claims?: Record<string, unknown>
  /** Epoch milliseconds; `null` or absent when the credential never expires. */
  expiresAt?: number | null
  tokenId?: string | null
}

/** Verifies an opaque token: resolve an identity, or `null` when the token is not valid. */
export type TokenVerifier = (token: string, request: FastifyRequest) => Promise<IdentityInit | null> | IdentityInit | null

/** Verifies a real username and password sent by HTTP Basic: resolve an identity, or `null` when wrong. */
export type PasswordVerifier = (username: string, password: string, request: FastifyRequest) => Promise<IdentityInit | null>

/** Decides whether an authenticated identity may use a route: `false` answers 403 / 4403. */
export type Authorizer = (identity: Identity, request: FastifyRequest) => boolean | Promise<boolean>

/** What an extractor's own `verify` returns: like `TokenVerifier`, an identity or `null` for a credential that is not valid. */
export type CredentialVerifier = (credential: Credential, request: FastifyRequest) => Promise<IdentityInit | null> | IdentityInit | null

/**
 * A transport: reads its credential from a request. `extract` returns `null` when the request carries none, and throws
 * a `WsAuthError('malformed')` when it carries a bad one. The guard runs the extractors in `precedence` order, and the
 * first credential found goes through the rest of the pipeline: the length cap, verification, the denylist and
 * `authorize`.
 */
export interface Extractor {
  /** A name from `Transports` in @wsauth/core; a package adds its own by declaration merging. */
  transport: Transport
  /** Lower runs first: Authorization 100, subprotocol 200, cookie 300, query 400. */
  precedence: number
  /** A credential the browser sends by itself (cookie, Basic): an Origin allowlist is required at startup. */
  ambient?: boolean
  /** Reject requests with no `Origin` header when this transport carries the credential. */
  requireOrigin?: boolean
  extract (request: FastifyRequest): Credential | null
  /**
   * Verifies this transport's credentials itself, for a credential that is not a token the guard's verifier knows (a
   * single-use ticket redeemed from a store, say). Without it, tokens go to the guard's `verify` (or @fastify/jwt) and
   * passwords to `basic.verifyPassword`. The denylist and `authorize` apply to what it returns all the same.
   */
  verify?: CredentialVerifier
  /**
   * This transport's part of a guarded route's entry in the discovery document (`transports`), or `null` when the
   * route can't take it. Called for every guarded route once the server is ready. Nothing secret goes in it.
   */
  describe? (route: DescribedRoute): Partial<DiscoveryTransports> | null
}

export type Mode = 'http' | 'close'

export interface BasicOptions {
  /** Username that marks the password as a token (`token:<access_token>`). Default `token`. */
  tokenUsername?: string
  /** Checks a real username and password; without it only `token:<token>` is accepted. */
  verifyPassword?: PasswordVerifier
  /**
   * How long a socket opened with a username and password lives, in seconds, when `verifyPassword` gives no
   * `expiresAt`: it is closed with 4401 `token expired` then, like a token's socket at `exp`. Default 900.
   */
  lifetime?: number
}

export interface WsAuthOptions {
  /** Verifies opaque tokens. Without it, tokens are JWTs verified by @fastify/jwt. */
  verify?: TokenVerifier
  /** The @fastify/jwt namespace to verify with, when the app registered it with one. */
  jwtNamespace?: string
  /** Accept `Authorization: Basic` (and so URI user info). Ambient: needs `origins`. Off by default. */
  basic?: boolean | BasicOptions
  /** Accept a token in the query string under this name (`true` means `token`). Off by default. */
  query?: boolean | { name?: string }
  /** Exact allowlist of `Origin` values; a request with another Origin is answered 403 / 4403. */
  origins?: string[]
  /** `http` (default) answers before the upgrade; `close` upgrades and closes with a 44xx code. */
  mode?: Mode
  /** Realm in `WWW-Authenticate`. Default `wsauth`. */
  realm?: string
  /**
   * HTTP status of a rejected token (invalid, expired, revoked; wrong password): 401 (default), or 403 as Jupyter
   * JEP 121 clients expect. Close codes stay 4401, so a wsauth client still refreshes its token on them.
   */
  invalidTokenStatus?: 401 | 403
  /** Longest credential accepted, in characters. Default 4096. */
  maxCredentialLength?: number
  /** Default authorization for every guarded route. */
  authorize?: Authorizer
  /**
   * Every shared store and the revocation bus, for this guard and the wsauth plugins registered after it
   * (`fastify.wsAuth.stores`): `wsAuthRedis(…)` from @wsauth/redis for many nodes. Default: `memoryStores()` on the
   * guard's `clock`.
   */
  stores?: WsAuthStores
  /** Revoked token ids, checked at every handshake, first message and refresh. Default: `stores.denyList`. */
  denyList?: DenyList
  /**
   * The guard's clock (epoch milliseconds) for expiry: at verification, on live sockets and for `auth.expiring`. For
   * tests; @fastify/jwt checks `exp` against its own clock. Default `Date.now`.
   */
  clock?: Clock
  /**
   * The discovery document clients read instead of probing (`GET /.well-known/wsauth`): `{ path }` serves it
   * elsewhere, `false` not at all. On by default.
   */
  discovery?: boolean | { path?: string }
}

/** Per-route settings, under `config.wsAuth`; `false` opts the route out of the guard. */
export interface WsAuthRouteOptions {
  mode?: Mode
  authorize?: Authorizer
  /**
   * The application subprotocols this route speaks. With @wsauth/subprotocol-token registered, the 101 echoes the
   * first of the client's offers that is in this list (and never a token protocol); without it, ws's own choice applies.
   */
  protocols?: string[]
  /**
   * Accept a handshake that carries no credential, and take the credential from the socket's first message instead
   * (needs @wsauth/first-message). A handshake that does carry one is verified as usual.
   */
  firstMessage?: boolean
  /** Let clients refresh their credential in band on the live socket (needs @wsauth/first-message). */
  refresh?: boolean
}

/**
 * A live socket's credential as the guard tracks it, handed to the in-band protocol for the socket's life. The guard
 * does the verifying, closing and reporting; the protocol only speaks the messages.
 */
export interface LiveSession {
  /** The socket's identity, as of its last refresh. */
  readonly identity: Identity
  /** Whether the route lets the client refresh in band. */
  readonly refreshable: boolean
  /**
   * Verifies a token sent on the live socket as a handshake would (denylist and `authorize` included), requires the
   * same subject, and moves the socket to the new token's expiry and id. Resolves the new identity, or `null` when the
   * socket was closed instead: on a failure the guard closes it with the outcome's code (a new subject: 4403).
   */
  refresh (token: string): Promise<Identity | null>
  /**
   * Closes the socket for a refresh message the protocol could not read (say, no token): logged and reported as a
   * refused refresh, closed with the outcome's code.
   */
  reject (error: WsAuthError): void
}

/**
 * What @wsauth/first-message plugs into the guard (`registerInBandProtocol`): the messages of first-message
 * authentication and in-band refresh, on routes with `firstMessage` or `refresh`.
 */
export interface InBandProtocol {
  /** How long before a refreshable socket's token expires `expiring` is called, in milliseconds (0: never). */
  readonly expiringNoticeMs: number
  /** The protocol's settings and vocabulary, as the discovery document lists them (`inBand`). */
  readonly discovery: DiscoveryInBand
  /**
   * A socket upgraded without a credential on a `firstMessage` route: resolves the credential its first message
   * carries, or rejects with a `WsAuthError` (timeout, another message). Whatever else it receives is held back until
   * the function `open` returns has run. It may pause the socket once the credential is in, to bound what it holds:
   * that function resumes it, and so does the guard when it closes the socket instead.
   */
  awaitCredential (socket: WebSocket): Promise<Credential>
  /**
   * An authenticated socket on a `firstMessage` or `refresh` route, tracked and about to be handed to the app's
   * handler. Returns the function the guard calls right after that handler has run.
   */
  open (socket: WebSocket, session: LiveSession): () => void
  /** A refreshable socket's token expires in `expiringNoticeMs` or less. */
  expiring (socket: WebSocket, identity: Identity): void
}

const PLUGIN = '@wsauth/ws-bearer'
const OPTION_NAMES = [
  'verify', 'jwtNamespace', 'basic', 'query', 'origins', 'mode', 'realm', 'invalidTokenStatus', 'maxCredentialLength',
  'authorize', 'stores', 'denyList', 'clock', 'discovery',
]
const ROUTE_OPTION_NAMES = ['mode', 'authorize', 'protocols', 'firstMessage', 'refresh']
const MODES: readonly Mode[] = ['http', 'close']

/** How long a socket opened with a username and password lives when the verifier gives no expiry, in seconds. */
export const DEFAULT_BASIC_LIFETIME = 900

/** The guard's options, checked and with their defaults. */
export interface GuardSettings {
  verify: TokenVerifier | undefined
  jwtNamespace: string | undefined
  basic: { tokenUsername: string, verifyPassword: PasswordVerifier | undefined, lifetimeMs: number } | null
  /** The query parameter that carries a token; `null` when the query transport is off. */
  queryName: string | null
  origins: OriginAllowlist | null
  mode: Mode
  realm: string
  invalidTokenStatus: 401 | 403
  maxCredentialLength: number
  authorize: Authorizer | undefined
  /** The stores bundle, with `denyList` in it when that option was given. */
  stores: WsAuthStores
  clock: Clock
  /** Where the discovery document is served; `null` when it is off. */
  discoveryPath: string | null
}

/** `true`, `false`, absent or an options object: the object's reader, `null` for off. */
function switchOrObject (read: OptionsReader, name: string, known: readonly string[]): OptionsReader | null {
  const value = read.raw(name)
  if (value === undefined || value === false) return null
  if (value === true) return readOptions(PLUGIN, {}, known)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw read.error(name, 'must be true, false or an options object')
  return read.nested(name, known)!
}

function allowlist (read: OptionsReader): OriginAllowlist | null {
  const origins = read.stringList('origins')
  if (origins === undefined) return null
  for (const entry of origins) {
    try {
      normaliseOrigin(entry)
    } catch {
      throw read.error('origins', `must list origins (scheme://host[:port]), not ${JSON.stringify(entry)}`)
    }
  }
  return new OriginAllowlist(origins)
}

function storesOption (read: OptionsReader, clock: Clock): WsAuthStores {
  const given = read.raw('stores')
  if (given !== undefined && !isWsAuthStores(given)) {
    throw read.error('stores', 'must be a stores bundle (memoryStores() from @wsauth/core, wsAuthRedis(…) from @wsauth/redis)')
  }
  const stores = given ?? memoryStores({ now: clock })
  const denyList = read.raw('denyList') as Partial<DenyList> | undefined
  if (denyList === undefined) return stores
  if (typeof denyList?.has !== 'function' || typeof denyList.add !== 'function') throw read.error('denyList', 'must be a DenyList (has and add)')
  return { ...stores, denyList: denyList as DenyList }
}

/** Checks the guard's options at registration: a wrong name or kind is a startup error naming the option. */
export function readGuardOptions (options: unknown): GuardSettings {
  const read = readOptions(PLUGIN, options, OPTION_NAMES)
  const basic = switchOrObject(read, 'basic', ['tokenUsername', 'verifyPassword', 'lifetime'])
  const query = switchOrObject(read, 'query', ['name'])
  const origins = allowlist(read)
  if (basic !== null && (origins === null || origins.size === 0)) {
    throw read.error('basic', 'needs `origins`: Basic credentials are sent by browsers on their own; set `origins` to an allowlist')
  }
  const clock = read.function<Clock>('clock') ?? Date.now
  return {
    verify: read.function<TokenVerifier>('verify'),
    jwtNamespace: read.string('jwtNamespace'),
    basic: basic === null
      ? null
      : {
          tokenUsername: basic.string('tokenUsername', 'token'),
          verifyPassword: basic.function<PasswordVerifier>('verifyPassword'),
          lifetimeMs: basic.integer('lifetime', DEFAULT_BASIC_LIFETIME) * 1000,
        },
    queryName: query === null ? null : query.string('name', 'token'),
    origins,
    mode: read.oneOf('mode', MODES, 'http'),
    realm: read.string('realm', 'wsauth'),
    invalidTokenStatus: read.oneOf<401 | 403>('invalidTokenStatus', [401, 403], 401),
    maxCredentialLength: read.integer('maxCredentialLength', DEFAULT_MAX_CREDENTIAL_LENGTH),
    authorize: read.function<Authorizer>('authorize'),
    stores: storesOption(read, clock),
    clock,
    discoveryPath: discoveryPath(read),
  }
}

function discoveryPath (read: OptionsReader): string | null {
  if (read.raw('discovery') === false) return null
  const discovery = switchOrObject(read, 'discovery', ['path'])
  return discovery === null ? DISCOVERY_PATH : discovery.path('path', DISCOVERY_PATH)
}

/**
 * A route's `config.wsAuth`, checked when the route is added. `protocols` is checked for its kind only: which names
 * may be echoed is @wsauth/subprotocol-token's to check.
 */
export function readRouteOptions (config: unknown, method: string | string[], url: string): WsAuthRouteOptions {
  const read = readOptions(`${PLUGIN} (route ${String(method)} ${url})`, config, ROUTE_OPTION_NAMES, 'config.wsAuth.')
  const mode = read.oneOf('mode', MODES)
  const authorize = read.function<Authorizer>('authorize')
  const protocols = read.stringList('protocols')
  return {
    ...(mode === undefined ? {} : { mode }),
    ...(authorize === undefined ? {} : { authorize }),
    ...(protocols === undefined ? {} : { protocols }),
    firstMessage: read.boolean('firstMessage', false),
    refresh: read.boolean('refresh', false),
  }
}
