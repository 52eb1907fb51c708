// The script of `<prefix>/iframe`, served as `<prefix>/iframe.js` (an external same-origin file, so the page's CSP
// can say `script-src 'self'`). It runs on the WebSocket server's origin, the only origin that can set that origin's
// cookie: it takes a token from the embedding page and has the server turn it into an HttpOnly cookie.
import type { IframeReply, IframeRequest } from './protocol.js'

// The allowed parents (exact serialised origins), from the page the server rendered.
const parents = new Set(
  (document.querySelector<HTMLMetaElement>('meta[name="wsauth-parents"]')?.content ?? '').split(' ').filter((origin) => origin !== '')
)

function isRequest (data: unknown): data is IframeRequest {
  if (typeof data !== 'object' || data === null) return false
  const { type, id, token } = data as Record<string, unknown>
  if (typeof id !== 'string') return false
  return (type === 'wsauth:set-session' && typeof token === 'string' && token !== '') || type === 'wsauth:clear-session'
}

async function errorOf (response: Response): Promise<string | null> {
  if (response.ok) return null
  try {
    const body = await response.json() as { error?: unknown }
    return typeof body.error === 'string' ? body.error : null
  } catch {
    return null
  }
}

function session (init: RequestInit): Promise<Response> {
  // Same-origin, relative to `<prefix>/iframe`: the token travels in a header, never in a URL.
  return fetch('session', { ...init, credentials: 'same-origin', cache: 'no-store', redirect: 'error' })
}

async function call (request: IframeRequest): Promise<IframeReply> {
  const reply = { type: 'wsauth:result', id: request.id } as const
  try {
    if (request.type === 'wsauth:clear-session') {
      const response = await session({ method: 'DELETE' })
      return { ...reply, ok: response.ok, status: response.status, error: await errorOf(response) }
    }
    const response = await session({ method: 'POST', headers: { authorization: `Bearer ${request.token}` } })
    if (!response.ok) return { ...reply, ok: false, status: response.status, error: await errorOf(response) }
    // The browser may have refused to store the cookie (a parent on another site, blocked third-party cookies): ask
    // the server whether it comes back, so the page hears it now and not as a 4401 on its socket.
    const check = await session({ method: 'GET' })
    return check.ok
      ? { ...reply, ok: true, status: response.status, error: null }
      : { ...reply, ok: false, status: 0, error: 'cookie_not_stored' }
  } catch {
    return { ...reply, ok: false, status: 0, error: 'network_error' }
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  // Only the page that embeds us, and only when it is on an allowed origin (exact match); anything else is ignored
  // without an answer, so a foreign page learns nothing.
  if (event.source !== window.parent || !parents.has(event.origin) || !isRequest(event.data)) return
  const origin = event.origin
  call(event.data).then((reply) => window.parent.postMessage(reply, origin))
})
