// The browser helper: `import { setSessionCookie } from '@wsauth/cookie-iframe/browser'` in a bundle, or straight
// from the WebSocket server at `<prefix>/client.js`. Self-contained (no imports at run time) for that reason.
import type { IframeReply, IframeRequest } from './protocol.js'

export interface SessionCookieOptions {
  /** How long to wait for the iframe to load and answer, in milliseconds. Default 10 000. */
  timeoutMs?: number
}

/** The session cookie could not be set or cleared. */
export class SessionCookieError extends Error {
  /** The HTTP status of `<prefix>/session`, or 0 when there was none (timeout, network, iframe refused). */
  readonly status: number
  /**
   * The server's RFC 6750 `error` (`invalid_token`, …); `cookie_not_stored` when the server accepted the token but the
   * browser did not keep the cookie (the page and the server are not on one site); `timeout`; `network_error`.
   */
  readonly error: string

  constructor (status: number, error: string) {
    super(status === 0 ? `wsauth session cookie: ${error}` : `wsauth session cookie: ${status} ${error}`)
    this.name = 'SessionCookieError'
    this.status = status
    this.error = error
  }
}

const DEFAULT_TIMEOUT_MS = 10_000

function isReply (data: unknown, id: string): data is IframeReply {
  return typeof data === 'object' && data !== null &&
    (data as Partial<IframeReply>).type === 'wsauth:result' && (data as Partial<IframeReply>).id === id
}

/**
 * Loads `<endpoint>/iframe` hidden, sends it one request once it has loaded, and settles on its answer or the timeout;
 * the iframe is removed either way.
 */
function viaIframe (endpoint: string | URL, request: IframeRequest, options: SessionCookieOptions): Promise<void> {
  const base = new URL(endpoint, document.baseURI)
  const iframeUrl = new URL(`${base.pathname.replace(/\/+$/, '')}/iframe`, base)
  const serverOrigin = iframeUrl.origin
  const iframe = document.createElement('iframe')
  iframe.hidden = true
  iframe.title = 'wsauth session'
  return new Promise<void>((resolve, reject) => {
    const onMessage = (event: MessageEvent<unknown>): void => {
      // The answer must come from our iframe's window, on the server's origin.
      if (event.source !== iframe.contentWindow || event.origin !== serverOrigin || !isReply(event.data, request.id)) return
      settle()
      if (event.data.ok) resolve()
      else reject(new SessionCookieError(event.data.status, event.data.error ?? 'refused'))
    }
    const timer = setTimeout(() => {
      settle()
      reject(new SessionCookieError(0, 'timeout'))
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    const settle = (): void => {
      clearTimeout(timer)
      window.removeEventListener('message', onMessage)
      iframe.remove()
    }
    window.addEventListener('message', onMessage)
    // An explicit target origin: if the iframe shows anything but the server's page (an error page when its CSP
    // refuses our origin), the token is not delivered, and the timeout rejects.
    iframe.addEventListener('load', () => iframe.contentWindow?.postMessage(request, serverOrigin), { once: true })
    iframe.src = iframeUrl.href
    ;(document.body ?? document.documentElement).append(iframe)
  })
}

function requestId (): string {
  return crypto.getRandomValues(new Uint32Array(2)).join('-')
}

/**
 * Has the WebSocket server at `endpoint` (its origin and the plugin's prefix, e.g. `https://ws.example.com/ws-auth`)
 * set its HttpOnly session cookie from `token`. Open the WebSocket once this resolves.
 */
export function setSessionCookie (endpoint: string | URL, token: string, options: SessionCookieOptions = {}): Promise<void> {
  return viaIframe(endpoint, { type: 'wsauth:set-session', id: requestId(), token }, options)
}

/** Clears the session cookie; the server also closes the user's live sockets. */
export function clearSessionCookie (endpoint: string | URL, options: SessionCookieOptions = {}): Promise<void> {
  return viaIframe(endpoint, { type: 'wsauth:clear-session', id: requestId() }, options)
}
