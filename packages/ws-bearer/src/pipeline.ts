import type { FastifyRequest } from 'fastify'
import {
  WsAuthError, httpAnswer, toWsAuthError,
  type ChallengeOptions, type Clock, type Credential, type DenyList, type HttpAnswer, type Identity, type OriginAllowlist,
  type Transport,
} from '@wsauth/core'
import { publishFailed, type Phase } from './events.js'
import { andThen, isPromise, type MaybePromise } from './maybe-async.js'
import type { Authorizer, Extractor, IdentityInit, PasswordVerifier, TokenVerifier } from './options.js'

/** A route's guard settings, resolved once when the route is added. */
export interface GuardedRoute {
  url: string
  mode: 'http' | 'close'
  authorize: Authorizer | undefined
  firstMessage: boolean
  refresh: boolean
}

/**
 * One authentication attempt: the context every step of the pipeline reads and fills in, from the request to the
 * identity. The handshake, a first message and an in-band refresh each make one.
 */
export interface Attempt {
  readonly request: FastifyRequest
  /** `null` for `verifyToken`, which checks a token for the app's own routes: no route, no `authorize`. */
  readonly route: GuardedRoute | null
  readonly phase: Phase
  /** The transport of the credential being judged, for the failure event and log; `null` while none was found. */
  transport: Transport | null
  credential: Credential | null
  /** The extractor that found the credential; `null` for one that came on the socket. Its own `verify` verifies it. */
  source: Extractor | null
  /** The subject the credential must name (a refresh keeps the socket's subject); `null` for any. */
  subject: string | null
  identity: Identity | null
}

/** A fresh attempt at `phase`. */
export function attempt (request: FastifyRequest, route: GuardedRoute | null, phase: Phase): Attempt {
  return { request, route, phase, transport: null, credential: null, source: null, subject: null, identity: null }
}

export interface PipelineSettings {
  origins: OriginAllowlist | null
  maxCredentialLength: number
  verifyToken: TokenVerifier
  verifyPassword: PasswordVerifier | undefined
  /** How long a password login lives when `verifyPassword` gives no expiry, in milliseconds. */
  passwordLifetimeMs: number
  denyList: DenyList
  clock: Clock
  challenge: ChallengeOptions
}

function refuseRevoked (revoked: boolean): void {
  if (revoked) throw new WsAuthError('invalid', 'token revoked')
}

function credentialLength (credential: Credential): number {
  return credential.kind === 'token' ? credential.token.length : credential.username.length + 1 + credential.password.length
}

/**
 * The guard's steps, in order: origin, extract, length cap, verify, denylist, authorize. Each step is a function over
 * one `Attempt`, and throws a `WsAuthError` to refuse; `refuse` is the one way a refusal is logged and reported,
 * whichever phase it happened in. A step stays synchronous while what it calls answers synchronously (a JWT, the
 * in-memory denylist), so a handshake pays no promise unless something in it is asynchronous.
 */
export class Pipeline {
  readonly #settings: PipelineSettings
  readonly #extractors: Extractor[] = []

  constructor (settings: PipelineSettings) {
    this.#settings = settings
  }

  get extractors (): readonly Extractor[] {
    return this.#extractors
  }

  /** Adds a transport; extractors run in `precedence` order. */
  register (extractor: Extractor): void {
    if (this.#extractors.some((existing) => existing.transport === extractor.transport)) {
      throw new Error(`@wsauth/ws-bearer: a ${extractor.transport} extractor is already registered`)
    }
    const { origins } = this.#settings
    if (extractor.ambient === true && (origins === null || origins.size === 0)) {
      throw new Error(`@wsauth/ws-bearer: the ${extractor.transport} transport is ambient; set \`origins\` to an allowlist`)
    }
    this.#extractors.push(extractor)
    this.#extractors.sort((a, b) => a.precedence - b.precedence)
  }

  /**
   * An `Origin` off the allowlist is refused before anything it sent is read (RFC 6455 §10.2). A request without one
   * comes from a program no other site can drive, and passes here; `extract` refuses it for transports that need one.
   */
  origin (attempt: Attempt): void {
    const origin = attempt.request.headers.origin
    const { origins } = this.#settings
    if (origins !== null && origin !== undefined && !origins.allows(origin)) {
      throw new WsAuthError('forbidden', 'origin not allowed')
    }
  }

  /** The first credential the extractors find, in precedence order; two of one transport are theirs to refuse. */
  extract (attempt: Attempt): void {
    for (const extractor of this.#extractors) {
      attempt.transport = extractor.transport
      const credential = extractor.extract(attempt.request)
      if (credential !== null) {
        attempt.transport = credential.transport
        attempt.credential = credential
        attempt.source = extractor
        if (extractor.requireOrigin === true && attempt.request.headers.origin === undefined) {
          throw new WsAuthError('forbidden', 'origin required')
        }
        return
      }
    }
    attempt.transport = null
  }

  /** Every transport's credential, the in-band ones included, is capped here and nowhere else. */
  capLength (attempt: Attempt): void {
    if (credentialLength(attempt.credential!) > this.#settings.maxCredentialLength) {
      throw new WsAuthError('malformed', 'credential too long')
    }
  }

  /** The credential, verified by its transport's own `verify`, the token verifier or the password verifier. */
  verify (attempt: Attempt): MaybePromise<void> {
    const credential = attempt.credential!
    const { request } = attempt
    const { verifyToken, verifyPassword } = this.#settings
    let init: MaybePromise<IdentityInit | null>
    if (attempt.source?.verify !== undefined) init = attempt.source.verify(credential, request)
    else if (credential.kind === 'token') init = verifyToken(credential.token, request)
    else init = verifyPassword === undefined ? null : verifyPassword(credential.username, credential.password, request)
    return isPromise(init) ? init.then((verified) => this.#complete(attempt, verified)) : this.#complete(attempt, init)
  }

  /** A token id on the denylist is refused; a denylist that fails is `unavailable` (503 / 1013), never a pass. */
  denyList (attempt: Attempt): MaybePromise<void> {
    const { tokenId } = attempt.identity!
    if (tokenId === null) return
    const unavailable = (error: unknown): never => { throw new WsAuthError('unavailable', undefined, { cause: error }) }
    let revoked: MaybePromise<boolean>
    try {
      revoked = this.#settings.denyList.has(tokenId)
    } catch (error) {
      return unavailable(error)
    }
    return isPromise(revoked) ? revoked.then(refuseRevoked, unavailable) : refuseRevoked(revoked)
  }

  /** The route's `authorize` (or the guard's): `false` is 403 / 4403. */
  authorize (attempt: Attempt): MaybePromise<void> {
    const authorize = attempt.route?.authorize
    if (authorize === undefined) return
    return andThen(authorize(attempt.identity!, attempt.request), (allowed) => {
      if (!allowed) throw new WsAuthError('forbidden', 'not allowed')
    })
  }

  /** The handshake: every step. `null` when it carries no credential and the route takes one by first message. */
  authenticate (attempt: Attempt): MaybePromise<Identity | null> {
    this.origin(attempt)
    this.extract(attempt)
    if (attempt.credential === null) {
      if (attempt.route?.firstMessage === true) return null
      throw new WsAuthError('missing', 'no credentials')
    }
    return this.judge(attempt)
  }

  /** The steps after a credential is found (length cap, verify, denylist, authorize): for one that came on the socket. */
  judge (attempt: Attempt): MaybePromise<Identity> {
    this.capLength(attempt)
    const verified = this.verify(attempt)
    return isPromise(verified) ? verified.then(() => this.#afterVerify(attempt)) : this.#afterVerify(attempt)
  }

  /**
   * The one refusal path of every phase: the error to answer with (anything that is not a `WsAuthError` is a bug:
   * `internal`), logged and published. Refusals a client causes are `info` lines; a store that is down or a bug is an
   * `error` line. Neither carries the credential.
   */
  refuse (attempt: Attempt, thrown: unknown): WsAuthError {
    const error = toWsAuthError(thrown)
    const { request, transport, phase } = attempt
    if (error.outcome === 'internal' || error.outcome === 'unavailable') {
      request.log.error({ err: error.cause }, 'websocket authentication failed: %s', error.outcome)
    } else {
      request.log.info({ wsAuth: { outcome: error.outcome, code: error.code, transport, phase } }, 'websocket authentication rejected')
    }
    publishFailed(error.outcome, transport, attempt.route?.url ?? request.routeOptions.url ?? '', phase)
    return error
  }

  /** The HTTP answer to a refused handshake. */
  httpAnswer (error: WsAuthError): HttpAnswer {
    return httpAnswer(error, this.#settings.challenge)
  }

  #afterVerify (attempt: Attempt): MaybePromise<Identity> {
    const checked = this.denyList(attempt)
    if (isPromise(checked)) return checked.then(() => this.#authorized(attempt))
    return this.#authorized(attempt)
  }

  #authorized (attempt: Attempt): MaybePromise<Identity> {
    const allowed = this.authorize(attempt)
    return isPromise(allowed) ? allowed.then(() => attempt.identity!) : attempt.identity!
  }

  /** The verifier's answer as an identity: `null` is invalid; a password login without an expiry gets the lifetime. */
  #complete (attempt: Attempt, init: IdentityInit | null): void {
    const credential = attempt.credential!
    if (init === null) throw new WsAuthError('invalid', credential.kind === 'token' ? 'invalid token' : 'invalid username or password')
    if (typeof init.subject !== 'string' || init.subject === '') throw new Error('a verifier returned an identity without a subject')
    const now = this.#settings.clock()
    const expiresAt = init.expiresAt ?? (credential.kind === 'password' ? now + this.#settings.passwordLifetimeMs : null)
    if (expiresAt !== null && expiresAt <= now) throw new WsAuthError('invalid', 'token expired')
    if (attempt.subject !== null && init.subject !== attempt.subject) throw new WsAuthError('forbidden', 'another subject')
    attempt.identity = {
      subject: init.subject,
      scopes: init.scopes ?? [],
      claims: init.claims ?? {},
      transport: credential.transport,
      expiresAt,
      tokenId: init.tokenId ?? null,
    }
  }
}
