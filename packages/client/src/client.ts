import type { DiscoveryDocument, DiscoveryRoute } from '@wsauth/core'
import { planSocket } from './attempt.js'
import { credential, SignedOut, type TokenReason } from './credential.js'
import { discover, findRoute } from './discovery.js'
import { WsAuthClientError } from './errors.js'
import { clientEvent, type ClientState, type CloseReason, type WsAuthClientEventMap } from './events.js'
import { renewDelay } from './expiry.js'
import { inBandCredential, readInBand } from './in-band.js'
import { DEFAULT_TIMERS, type ConnectOptions, type Timers } from './options.js'
import { boundedRequest, type Request } from './request.js'
import { RetryPolicy } from './retry.js'
import { SendQueue } from './send-queue.js'
import { watchSocket, type ClientSocket, type SocketEnd, type WebSocketConstructor } from './socket.js'
import { chooseTransport, type TransportName } from './transports.js'

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
  readonly #request: Request
  readonly #queue: SendQueue
  readonly #retry: RetryPolicy
  #state: ClientState = 'connecting'
  #socket: ClientSocket | null = null
  // Bumped by every attempt and by `close`: the continuations and events of older ones are ignored.
  #attempt = 0
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
    this.#request = boundedRequest(options.requestTimeoutMs ?? 10_000, this.#timers)
    this.#queue = new SendQueue(options.queueLimit ?? 100)
    this.#retry = new RetryPolicy(options.backoff, options.random)
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

  /** One attempt: discovery, a fresh credential placed for the chosen transport, a socket. */
  async #connect (reason: TokenReason): Promise<void> {
    const attempt = ++this.#attempt
    const current = (): boolean => attempt === this.#attempt
    this.#setState('connecting')
    this.#refreshing = this.#renewing = false
    this.#expiresAt = null
    const options = this.#options
    let socket: ClientSocket
    let inBandToken: string | null
    try {
      const document = this.#document = await discover(this.#request, options.discovery, this.#origin)
      if (!current()) return
      const route = this.#route = findRoute(document, new URL(this.url).pathname) ?? null
      if (route === null) throw new WsAuthClientError('unsupported', `${this.url}: no guarded route for it in the discovery document`)
      const protocols = options.protocols ?? route.protocols
      const environment = { headers: options.WebSocket !== undefined, page: 'document' in globalThis }
      const transport = this.transport = chooseTransport(document, route, protocols, environment, options.transport)
      const plan = await planSocket({ url: this.url, origin: this.#origin, route, transport, protocols, reason, options, request: this.#request })
      if (!current()) return
      this.#expiresAt = plan.expiresAt
      inBandToken = plan.inBandToken
      socket = this.#socket = plan.headers === undefined
        ? new this.#WebSocket(plan.url, plan.protocols)
        : new this.#WebSocket(plan.url, plan.protocols, { headers: plan.headers })
    } catch (error) {
      if (current()) this.#failed(error)
      return
    }
    if (options.binaryType !== undefined) socket.binaryType = options.binaryType
    watchSocket(socket, {
      open: () => { if (current()) this.#opened(inBandToken) },
      message: (data) => { if (current()) this.#message(data) },
      close: (end) => { if (current()) this.#socketClosed(end) },
    })
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
    if (inBandToken !== null) {
      this.#setState('authenticating')
      this.#socket!.send(inBandCredential(this.#document!.inBand!.messages, 'auth', inBandToken))
    } else if (this.#route!.mode === 'close') {
      this.#setState('authenticating')
      this.#wait = this.#after(this.#options.confirmMs ?? 1000, () => this.#confirmed())
    } else {
      this.#confirmed()
    }
  }

  #message (data: unknown): void {
    const names = this.#document!.inBand?.messages
    // Only a route that speaks the in-band protocol sends it; elsewhere such text is the app's.
    const speaksInBand = names !== undefined && (this.#route!.refresh || this.transport === 'first-message')
    const inBand = speaksInBand ? readInBand(data, names) : null
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
    this.#queue.flush((data) => this.#socket!.send(data))
    this.#setState('open')
    this.#emit('open', {})
    this.#stable = this.#after(this.#retry.stableMs, () => this.#retry.reset())
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
    this.#socket?.send(inBandCredential(this.#document!.inBand!.messages, 'refresh', token))
  }

  #socketClosed ({ code, reason, retryAfterMs, opened }: SocketEnd): void {
    this.#clearTimers()
    this.#socket = null
    if (this.#renewing) {
      this.#connect('expiring')
      return
    }
    if (!opened && code === 1006) this.#emit('error', { error: new WsAuthClientError('connect', `${this.url}: could not connect`) })
    this.#closed(code, reason, retryAfterMs)
  }

  /** A socket closed (or an attempt failed as if it had, with `code`): what the code asks for. */
  #closed (code: number, serverReason: string, retryAfterMs: number): void {
    const decision = this.#retry.decide(code, retryAfterMs)
    if (decision.action === 'now') {
      this.#connect('unauthorized')
      return
    }
    if (decision.action !== 'wait') {
      const reason = decision.action === 'end' ? 'server' : decision.action === 'gave-up' ? 'gave-up' : code === 4403 ? 'forbidden' : 'bad-request'
      return this.#finish(reason, code, serverReason)
    }
    this.#setState('reconnecting')
    this.#wait = this.#after(decision.delayMs, () => {
      this.#wait = null
      this.#connect(decision.reason)
    })
  }

  #finish (reason: CloseReason, code: number, serverReason: string): void {
    if (this.#state === 'closed') return
    this.#attempt++
    this.#clearTimers()
    const socket = this.#socket
    this.#socket = null
    if (socket !== null && socket.readyState < 2) socket.close(1000)
    this.#queue.clear()
    this.#setState('closed')
    this.#emit('close', { code, reason, serverReason })
  }
}

/** Opens a logical connection to `url` (ws:, wss:, or a path on the page's origin); see `ConnectOptions`. */
export function connect (url: string | URL, options: ConnectOptions): WsAuthClient {
  return new WsAuthClient(url, options)
}
