/**
 * What went wrong, for `error` events and for `send`:
 * - `discovery`: the discovery document is missing or malformed (the client stops);
 * - `unsupported`: the document lists no route for the URL, or none of its transports can be used here (stops);
 * - `unreachable`: the discovery document or an endpoint could not be fetched: network, timeout, 5xx (retried);
 * - `token`: `getToken` or `getTicket` threw (retried; resolve `null` to stop instead);
 * - `refused`: the ticket or cookie endpoint refused the token (handled like the close code it stands for);
 * - `connect`: a socket failed before it opened (retried);
 * - `queue-full`, `closed`: `send` could not queue the message.
 */
export type WsAuthClientErrorCode =
  | 'discovery' | 'unsupported' | 'unreachable' | 'token' | 'refused' | 'connect' | 'queue-full' | 'closed'

export class WsAuthClientError extends Error {
  // `declare`: the constructor assigns them, so no field definitions are emitted for them.
  declare readonly code: WsAuthClientErrorCode
  /** For `refused`: the close code the refusal stands for (401 → 4401, 403 → 4403, 429 → 4429, …). */
  declare readonly closeCode: number | undefined
  /** For `refused` with a 429: the server's `Retry-After`, in milliseconds. */
  declare readonly retryAfterMs: number | undefined

  constructor (code: WsAuthClientErrorCode, message: string, options: { cause?: unknown, closeCode?: number, retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause })
    this.code = code
    this.closeCode = options.closeCode
    this.retryAfterMs = options.retryAfterMs
    this.name = 'WsAuthClientError'
  }
}
