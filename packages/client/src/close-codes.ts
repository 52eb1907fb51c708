/**
 * What the client does after a socket closed with `code`:
 * - `unauthorized` (4401): one immediate retry with a fresh token, then backoff;
 * - `stop` (4400, 4403): no retry;
 * - `backoff`: reconnect after an exponential, fully jittered delay: 4408 (no auth message in time), 1001 (going
 *   away), 1005 (no code: what @fastify/websocket sends its sockets when the server shuts down), 1006 (the connection
 *   dropped, or a browser's refused handshake), 1011, 1012 (service restart), 1013 (try again later);
 * - `rate-limited` (4429): backoff, and at least the server's hint;
 * - `end`: the server ended the session on purpose (1000, or a code of the app's): no retry.
 */
export type CloseAction = 'unauthorized' | 'stop' | 'backoff' | 'rate-limited' | 'end'

const BACKOFF = [4408, 1001, 1005, 1006, 1011, 1012, 1013]

export function closeAction (code: number): CloseAction {
  if (code === 4401) return 'unauthorized'
  if (code === 4400 || code === 4403) return 'stop'
  if (code === 4429) return 'rate-limited'
  return BACKOFF.includes(code) ? 'backoff' : 'end'
}

/**
 * The close code an HTTP refusal stands for (Node in HTTP mode sees the status; so does an endpoint's answer): 4xx as
 * 4000 + status, the convention Jupyter JEP 121 and the guard's close mode share; a 403 whose challenge says
 * `invalid_token` (the guard's JEP 121 preset) as 4401, since a fresh token fixes it; 503 as 1013; other failures as
 * 1011, and no answer at all (status 0) as 1006.
 */
export function closeCodeOfRefusal (status: number, invalidToken: boolean): number {
  if (invalidToken) return 4401
  if (status >= 400 && status < 500) return 4000 + status
  return status === 503 ? 1013 : status > 0 ? 1011 : 1006
}

/** `Retry-After` delay-seconds, in milliseconds; 0 for none or for an HTTP date (the backoff applies then). */
export function retryAfterHeaderMs (value: string | null | undefined): number {
  const seconds = Number(value ?? '')
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0
}

/**
 * An HTTP refusal (the guard's handshake answer, or an endpoint's) read as the close code it stands for and its
 * `Retry-After` hint; `header` reads one of its response headers.
 */
export function readRefusal (status: number, header: (name: string) => string | null): { closeCode: number, retryAfterMs: number } {
  return {
    closeCode: closeCodeOfRefusal(status, /invalid_token/.test(header('www-authenticate') ?? '')),
    retryAfterMs: retryAfterHeaderMs(header('retry-after')),
  }
}

/** The wait a 4429 close reason carries (`too many requests; retry-after=30`, @wsauth/core's closeAnswer), in ms. */
export function retryAfterReasonMs (reason: string): number {
  return retryAfterHeaderMs(/; retry-after=(\d+)$/.exec(reason)?.[1])
}
