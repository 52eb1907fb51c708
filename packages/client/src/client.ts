import type { DiscoveryDocument, DiscoveryRoute } from '@wsauth/core'
import type { setSessionCookie } from '@wsauth/cookie-iframe/browser'
import { subprotocolsWithToken } from '@wsauth/subprotocol-token/protocol'
import { closeAction, closeCodeOfRefusal, retryAfterHeaderMs, retryAfterReasonMs } from './close-codes.js'
import { findRoute, readDiscovery } from './discovery.js'
import { WsAuthClientError } from './errors.js'
import { clientEvent, type ClientState, type CloseReason, type WsAuthClientEventMap } from './events.js'
import { jwtExpiry, renewDelay } from './expiry.js'
import { chooseTransport, subprotocolFormat, type TransportName } from './transports.js'

/**
 * Why a credential is asked for: `connect` (the first attempt), `reconnect` (after the connection was lost),
 * `unauthorized` (the server refused the last one: 4401), `expiring` (the current one is about to expire). For
 * anything but `connect`, return a credential you have not handed out before.
 */
export type TokenReason = 'connect' | 'reconnect' | 'unauthorized' | 'expiring'

/** The app's source of credentials: a token (or ticket), or `null` when there is none (signed out: the client stops). */
export type CredentialSource = (context: { reason: TokenReason }) => Promise<string | null> | string | null

export interface Timers {
  setTimeout (callback: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

export interface BackoffOptions {
  /** The first delay's upper bound, in ms. Default 500. */
  baseMs?: number
  /** The largest upper bound, in ms. Default 30 000. */
  capMs?: number
  /** How many reconnects in a row before the client gives up. Default: no limit. */
  attempts?: number
  /** How long a connection must stay open to reset the count (and allow another immediate retry on 4401). Default 10 000. */
  stableMs?: number
}

/** The part of a WebSocket the client uses: the browser's, or the ws package's. */
export interface ClientSocket {
  readonly readyState: number
  readonly protocol: string
  binaryType: string
  send (data: any): void
  close (code?: number, reason?: string): void
  addEventListener (type: string, listener: (event: any) => void): void
}

export type WebSocketConstructor = new (url: string, protocols: string[], options?: { headers: Record<string, string> }) => ClientSocket

// The ws package's handshake response when the server answered over HTTP instead of upgrading (Node, HTTP mode).
interface Refusal { statusCode?: number, headers: Record<string, string | string[] | undefined> }
interface NodeSocket extends ClientSocket {
  on? (event: 'unexpected-response', listener: (request: unknown, response: Refusal) => void): unknown
  terminate (): void
}

export interface ConnectOptions {
  /** Called for every connection attempt and every in-band refresh. Required. */
  getToken: CredentialSource
  /** Where tickets come from, instead of the discovered ticket endpoint (which `getToken`'s token pays for). */
  getTicket?: CredentialSource
  /**
   * A WebSocket constructor that takes headers, like the ws package's: then the client prefers the `Authorization`
   * header. Default: the global `WebSocket` (a browser's), which can't.
   */
  WebSocket?: WebSocketConstructor
  /** Use this transport, and no other. `query` is used only when named here. */
  transport?: TransportName
  /** The application subprotocols to offer, in preference order. Default: the route's, from discovery. */
  protocols?: string[]
  /** Where the discovery document is (default `/.well-known/wsauth` on the socket's origin), or the document itself. */
  discovery?: string | URL | DiscoveryDocument
  /** How long the discovery document and the ticket and cookie endpoints may take to answer, in ms. Default 10 000. */
  requestTimeoutMs?: number
  backoff?: BackoffOptions
  /**
   * Close mode has no positive answer: a refused socket opens, then closes at once with a 44xx code. A socket there
   * counts as authenticated at the server's first message, or after this many ms without a close. Default 1000.
   */
  confirmMs?: number
  /** Renew a credential this long before it expires. Default: the server's `auth.expiring` notice, or 30 000. */
  renewBeforeMs?: number
  /** Messages held while not open. Default 100. */
  queueLimit?: number
  binaryType?: string
  /** For tests: the jitter's source (default `Math.random`), the clock (default `Date.now`), the timers. */
  random?: () => number
  now?: () => number
  timers?: Timers
}

const DEFAULT_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
}

/** Follows `getToken`'s answer; `null` stops the client. */
class SignedOut extends Error {}

async function credential (source: CredentialSource, reason: TokenReason): Promise<string> {
  let value: string | null
  try {
    value = await source({ reason })
  } catch (error) {
    throw new WsAuthClientError('token', `the app's credential source failed (${reason})`, { cause: error })
  }
  if (value === null || value === undefined) throw new SignedOut()
  return value
}

export interface WsAuthClient {
  addEventListener<K extends keyof WsAuthClientEventMap> (
    type: K, listener: (event: WsAuthClientEventMap[K]) => void, options?: boolean | AddEventListenerOptions
  ): void
  removeEventListener<K extends keyof WsAuthClientEventMap> (
    type: K, listener: (event: WsAuthClientEventMap[K]) => void, options?: boolean | EventListenerOptions
  ): void
}

/**
 * One logical connection that outlives its sockets: it discovers what the route accepts, asks the app for a fresh
 * credential for every attempt, refreshes it in band, and reconnects with backoff, holding the app's messages until
 * the server has accepted the credential.
 */
export class WsAuthClient extends EventTarget {
  /** The socket's URL, as given (resolved against the page in a browser). */
  readonly url: string
  /** The transport of the current (or last) socket. */
  transport: TransportName | null = null
  readonly #options: ConnectOptions
  readonly #timers: Timers
  readonly #WebSocket: WebSocketConstructor
  #state: ClientState = 'connecting'
  #queue: unknown[] = []
  #socket: ClientSocket | null = null
  // Bumped by every attempt and by `close`: the continuations and events of older ones are ignored.
  #attempt = 0
  #failures = 0
  #retriedUnauthorized = false
  #document: DiscoveryDocument | null = null
  #route: DiscoveryRoute | null = null
  #expiresAt: number | null = null
  #refreshing = false
  #renewing = false
  #wait: unknown = null
  #stable: unknown = null
  #renew: unknown = null

  constructor (url: string | URL, options: ConnectOptions) {
    super()
    if (typeof options?.getToken !== 'function') throw new TypeError('@wsauth/client: getToken must be a function')
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (WebSocketClass === undefined) throw new TypeError('@wsauth/client: no global WebSocket; pass one (the ws package) as `WebSocket`')
    const resolved = new URL(url, (globalThis as { location?: { href: string } }).location?.href)
    resolved.protocol = resolved.protocol.replace('http', 'ws')
    this.url = resolved.href
    this.#options = options
    this.#timers = options.timers ?? DEFAULT_TIMERS
    this.#WebSocket = WebSocketClass
    this.#connect('connect')
  }

  get state (): ClientState {
    return this.#state
  }

  /** The subprotocol the server chose for the current socket ('' for none). */
  get protocol (): string {
    return this.#socket?.protocol ?? ''
  }

  /**
   * Sends at once when open; otherwise queues, in order, until the server has accepted a credential. Throws a
   * `WsAuthClientError` when the client is closed (`closed`) or the queue is full (`queue-full`).
   */
  send (data: unknown): void {
    if (this.#state === 'closed') throw new WsAuthClientError('closed', 'the client is closed')
    if (this.#state === 'open' && this.#socket!.readyState === 1) return this.#socket!.send(data)
    const limit = this.#options.queueLimit ?? 100
    if (this.#queue.length >= limit) throw new WsAuthClientError('queue-full', `${limit} messages are already waiting`)
    this.#queue.push(data)
  }

  /** Closes for good; messages still queued are dropped. */
  close (code = 1000, reason = ''): void {
    if (this.#state !== 'closed') this.#socket?.close(code, reason)
    this.#finish('client', code, reason)
  }

  get #origin (): string {
    const url = new URL(this.url)
    return `${url.protocol.replace('ws', 'http')}//${url.host}`
  }

  #emit<K extends keyof WsAuthClientEventMap> (type: K, fields: Omit<WsAuthClientEventMap[K], keyof Event>): void {
    this.dispatchEvent(clientEvent(type, fields))
  }

  #setState (state: ClientState): void {
    if (this.#state === state) return
    this.#state = state
    this.#emit('state', { state })
  }

  #after (ms: number, callback: () => void): unknown {
    return this.#timers.setTimeout(callback, ms)
  }

  #clearTimers (): void {
    for (const handle of [this.#wait, this.#stable, this.#renew]) if (handle !== null) this.#timers.clearTimeout(handle)
    this.#wait = this.#stable = this.#renew = null
  }

  /** A GET or POST bounded by `requestTimeoutMs`; network failures and timeouts are `unreachable` errors. */
  async #request (url: URL, init: RequestInit = {}): Promise<{ response: Response, body: string }> {
    const abort = new AbortController()
    const timeoutMs = this.#options.requestTimeoutMs ?? 10_000
    const timer = this.#after(timeoutMs, () => abort.abort())
    try {
      const response = await fetch(url, { ...init, signal: abort.signal })
      return { response, body: await response.text() }
    } catch (error) {
      throw new WsAuthClientError('unreachable', abort.signal.aborted
        ? `${url.href}: no answer within ${timeoutMs} ms`
        : `${url.href}: ${(error as Error).message}`, { cause: error })
    } finally {
      this.#timers.clearTimeout(timer)
    }
  }

  async #discover (): Promise<DiscoveryDocument> {
    const given = this.#options.discovery
    if (typeof given === 'object' && !(given instanceof URL)) return readDiscovery(given, 'the discovery option')
    const url = new URL(given ?? '/.well-known/wsauth', this.#origin)
    const { response, body } = await this.#request(url, { headers: { accept: 'application/json' } })
    if (!response.ok) {
      throw new WsAuthClientError(response.status >= 500 ? 'unreachable' : 'discovery', `${url.href} answered ${response.status}`)
    }
    let document: unknown
    try {
      document = JSON.parse(body)
    } catch {
      throw new WsAuthClientError('discovery', `${url.href}: not JSON`)
    }
    return readDiscovery(document, url.href)
  }

  /** POST to the ticket endpoint with the token as Bearer: `{ ticket, expires_in }`. */
  async #fetchTicket (endpoint: string, token: string): Promise<string> {
    const url = new URL(endpoint, this.#origin)
    const { response, body } = await this.#request(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    if (!response.ok) {
      const invalidToken = /invalid_token/.test(response.headers.get('www-authenticate') ?? '')
      throw new WsAuthClientError('refused', `${url.href} answered ${response.status}`, {
        closeCode: closeCodeOfRefusal(response.status, invalidToken),
        retryAfterMs: retryAfterHeaderMs(response.headers.get('retry-after')),
      })
    }
    let ticket: unknown
    try {
      ticket = JSON.parse(body).ticket
    } catch {}
    if (typeof ticket !== 'string' || ticket === '') throw new WsAuthClientError('unreachable', `${url.href}: no ticket in the answer`)
    return ticket
  }

  /** One attempt: discovery, a fresh credential, a socket. */
  async #connect (reason: TokenReason): Promise<void> {
    const attempt = ++this.#attempt
    this.#setState('connecting')
    this.#refreshing = this.#renewing = false
    this.#expiresAt = null
    const options = this.#options
    let socket: NodeSocket
    let inBandToken: string | null = null
    try {
      const discovered = this.#document = await this.#discover()
      if (attempt !== this.#attempt) return
      const route = this.#route = findRoute(discovered, new URL(this.url).pathname) ?? null
      if (route === null) throw new WsAuthClientError('unsupported', `${this.url}: no guarded route for it in the discovery document`)
      let protocols = [...(options.protocols ?? route.protocols)]
      const environment = { headers: options.WebSocket !== undefined, page: 'document' in globalThis }
      const transport = this.transport = chooseTransport(discovered, route, protocols, environment, options.transport)
      const url = new URL(this.url)
      let headers: Record<string, string> | undefined
      const ticketEndpoint = route.transports.ticket
      if (transport === 'ticket' && options.getTicket !== undefined) {
        this.#addTicket(url, protocols, await credential(options.getTicket, reason))
      } else {
        const token = await credential(options.getToken, reason)
        this.#expiresAt = jwtExpiry(token)
        if (transport === 'bearer') headers = { authorization: `Bearer ${token}` }
        if (transport === 'query') url.searchParams.set(route.transports.query!.param, token)
        if (transport === 'subprotocol') protocols = subprotocolsWithToken(token, subprotocolFormat(route, protocols)!, protocols)
        if (transport === 'first-message') inBandToken = token
        if (transport === 'ticket') this.#addTicket(url, protocols, await this.#fetchTicket(ticketEndpoint!.endpoint, token))
        if (transport === 'cookie') await this.#setCookie(route.transports.cookie!.endpoint, token)
      }
      if (attempt !== this.#attempt) return
      socket = this.#socket = (headers === undefined
        ? new this.#WebSocket(url.href, protocols)
        : new this.#WebSocket(url.href, protocols, { headers })) as NodeSocket
    } catch (error) {
      if (attempt === this.#attempt) this.#failed(error)
      return
    }
    if (options.binaryType !== undefined) socket.binaryType = options.binaryType
    let opened = false
    let refusal: { code: number, retryAfterMs: number } | null = null
    const current = (): boolean => attempt === this.#attempt
    socket.on?.('unexpected-response', (_request, response) => {
      const header = (name: string): string => String(response.headers[name] ?? '')
      refusal = {
        code: closeCodeOfRefusal(response.statusCode ?? 0, /invalid_token/.test(header('www-authenticate'))),
        retryAfterMs: retryAfterHeaderMs(header('retry-after')),
      }
      socket.terminate()
    })
    // A failed socket also closes; the close handles it. The listener keeps the ws package from throwing the error.
    socket.addEventListener('error', () => {})
    socket.addEventListener('open', () => {
      if (!current()) return
      opened = true
      this.#opened(inBandToken)
    })
    socket.addEventListener('message', (event: { data: unknown }) => {
      if (current()) this.#message(event.data)
    })
    socket.addEventListener('close', (event: { code: number, reason: string }) => {
      if (!current()) return
      this.#clearTimers()
      this.#socket = null
      if (this.#renewing) {
        this.#renewing = false
        this.#connect('expiring')
      } else if (refusal !== null) {
        const { code, retryAfterMs } = refusal
        this.#closed(code, '', retryAfterMs)
      } else {
        if (!opened && event.code === 1006) this.#emit('error', { error: new WsAuthClientError('connect', `${this.url}: could not connect`) })
        this.#closed(event.code, event.reason, event.code === 4429 ? retryAfterReasonMs(event.reason) : 0)
      }
    })
  }

  /**
   * Has the server set its session cookie from `token`, through @wsauth/cookie-iframe's hidden iframe. The helper that
   * drives the iframe is the server's own (`<prefix>/client.js`, importable from any origin), loaded on first use: it
   * always matches the server's iframe, and pages that never use the cookie never load it.
   */
  async #setCookie (endpoint: string, token: string): Promise<void> {
    const url = new URL(endpoint, this.#origin)
    const helper = await import(`${url.href}/client.js`).catch((error: unknown) => {
      throw new WsAuthClientError('unreachable', `${url.href}/client.js: ${(error as Error).message}`, { cause: error })
    }) as { setSessionCookie: typeof setSessionCookie }
    await helper.setSessionCookie(url, token, { timeoutMs: this.#options.requestTimeoutMs ?? 10_000 })
      .catch((error: { status: number, error: string }) => {
        throw new WsAuthClientError('refused', `${url.href} refused the token (${error.error})`, {
          cause: error, closeCode: closeCodeOfRefusal(error.status, error.error === 'invalid_token'),
        })
      })
  }

  // A ticket rides in the query when the route names a parameter, else as a subprotocol.
  #addTicket (url: URL, protocols: string[], ticket: string): void {
    const { param, subprotocolPrefix } = this.#route!.transports.ticket!
    if (typeof param === 'string') url.searchParams.set(param, ticket)
    else protocols.push(subprotocolPrefix + ticket)
  }

  #failed (error: unknown): void {
    if (error instanceof SignedOut) return this.#finish('signed-out', 1006, '')
    const clientError = error instanceof WsAuthClientError
      ? error
      : new WsAuthClientError('unsupported', (error as Error).message, { cause: error })
    this.#emit('error', { error: clientError })
    const { code, closeCode } = clientError
    if (code === 'discovery' || code === 'unsupported') this.#finish(code, 1006, '')
    else this.#closed(closeCode ?? 1006, '', clientError.retryAfterMs ?? 0)
  }

  #opened (inBandToken: string | null): void {
    const names = this.#document!.inBand?.messages
    if (inBandToken !== null) {
      this.#setState('authenticating')
      this.#socket!.send(JSON.stringify({ [names!.typeKey]: names!.auth, [names!.tokenKey]: inBandToken }))
    } else if (this.#route!.mode === 'close') {
      this.#setState('authenticating')
      this.#wait = this.#after(this.#options.confirmMs ?? 1000, () => this.#confirmed())
    } else {
      this.#confirmed()
    }
  }

  /** The server's `auth.ok` or `auth.expiring`, or `null` for the app's message. */
  #inBandMessage (data: unknown): { type: 'ok' | 'expiring', expiresAt: unknown } | null {
    const names = this.#document!.inBand?.messages
    if (names === undefined || typeof data !== 'string' || data[0] !== '{') return null
    if (!this.#route!.refresh && this.transport !== 'first-message') return null
    if (!data.includes(names.ok) && !data.includes(names.expiring)) return null
    try {
      const message = JSON.parse(data)
      const type = message[names.typeKey]
      return type === names.ok ? { type: 'ok', expiresAt: message.expiresAt } : type === names.expiring ? { type: 'expiring', expiresAt: null } : null
    } catch {
      return null
    }
  }

  #message (data: unknown): void {
    const inBand = this.#inBandMessage(data)
    if (inBand?.type === 'expiring') {
      this.#refresh()
      return
    }
    if (inBand?.type === 'ok') {
      this.#expiresAt = typeof inBand.expiresAt === 'number' ? inBand.expiresAt : null
      this.#refreshing = false
      if (this.#state === 'authenticating') this.#confirmed()
      else this.#scheduleRenewal()
      return
    }
    // Close mode: a message from the app's handler means the server accepted the credential.
    if (this.#state === 'authenticating' && this.transport !== 'first-message') this.#confirmed()
    this.#emit('message', { data })
  }

  /** The server has accepted the credential: flush the queue, in order, then tell the app. */
  #confirmed (): void {
    if (this.#wait !== null) this.#timers.clearTimeout(this.#wait)
    this.#wait = null
    for (const data of this.#queue.splice(0)) this.#socket!.send(data)
    this.#setState('open')
    this.#emit('open', {})
    this.#stable = this.#after(this.#options.backoff?.stableMs ?? 10_000, () => {
      this.#failures = 0
      this.#retriedUnauthorized = false
    })
    this.#scheduleRenewal()
  }

  // The client renews by itself unless the server sends `auth.expiring` on this route.
  #scheduleRenewal (): void {
    if (this.#renew !== null) this.#timers.clearTimeout(this.#renew)
    this.#renew = null
    const notice = this.#document!.inBand?.expiringNoticeMs ?? 0
    if (this.#expiresAt === null || (this.#route!.refresh && notice > 0)) return
    const margin = this.#options.renewBeforeMs ?? (notice || 30_000)
    this.#renew = this.#after(renewDelay(this.#expiresAt, (this.#options.now ?? Date.now)(), margin), () => {
      this.#renew = null
      if (this.#route!.refresh && this.#document!.inBand !== undefined) {
        this.#refresh()
      } else {
        // No refresh on this route: a new socket with a fresh token, before the server closes this one.
        this.#renewing = true
        this.#socket?.close(1000)
      }
    })
  }

  /** `auth.refresh` with a fresh token; the server answers `auth.ok`, or closes (then the close code decides). */
  async #refresh (): Promise<void> {
    if (this.#refreshing) return
    this.#refreshing = true
    const attempt = this.#attempt
    let token: string
    try {
      token = await credential(this.#options.getToken, 'expiring')
    } catch (error) {
      if (attempt !== this.#attempt) return
      this.#refreshing = false
      if (error instanceof SignedOut) return this.#finish('signed-out', 1000, '')
      // The socket lives on until its token expires; the server's 4401 then starts a new attempt.
      return this.#emit('error', { error: error as WsAuthClientError })
    }
    if (attempt !== this.#attempt) return
    const names = this.#document!.inBand!.messages
    this.#socket?.send(JSON.stringify({ [names.typeKey]: names.refresh, [names.tokenKey]: token }))
  }

  /** A socket closed (or an attempt failed as if it had, with `code`): what the code asks for. */
  #closed (code: number, serverReason: string, retryAfterMs: number): void {
    const action = closeAction(code)
    if (action === 'stop') return this.#finish(code === 4403 ? 'forbidden' : 'bad-request', code, serverReason)
    if (action === 'end') return this.#finish('server', code, serverReason)
    if (action === 'unauthorized' && !this.#retriedUnauthorized) {
      this.#retriedUnauthorized = true
      this.#connect('unauthorized')
      return
    }
    const { baseMs = 500, capMs = 30_000, attempts = Infinity } = this.#options.backoff ?? {}
    if (++this.#failures > attempts) return this.#finish('gave-up', code, serverReason)
    // Full jitter: anywhere between 0 and the exponential bound, so clients dropped together come back spread out.
    const delay = Math.max(retryAfterMs, (this.#options.random ?? Math.random)() * Math.min(capMs, baseMs * 2 ** (this.#failures - 1)))
    this.#setState('reconnecting')
    this.#wait = this.#after(delay, () => {
      this.#wait = null
      this.#connect(action === 'unauthorized' ? 'unauthorized' : 'reconnect')
    })
  }

  #finish (reason: CloseReason, code: number, serverReason: string): void {
    if (this.#state === 'closed') return
    this.#attempt++
    this.#clearTimers()
    const socket = this.#socket
    this.#socket = null
    if (socket !== null && socket.readyState < 2) socket.close(1000)
    this.#queue = []
    this.#setState('closed')
    this.#emit('close', { code, reason, serverReason })
  }
}

/** Opens a logical connection to `url` (ws:, wss:, or a path on the page's origin); see `ConnectOptions`. */
export function connect (url: string | URL, options: ConnectOptions): WsAuthClient {
  return new WsAuthClient(url, options)
}
