/**
 * The messages between the page (`client.ts`) and the iframe (`iframe.ts`). Types only: both scripts are served to
 * browsers as single files, so neither may import anything at run time.
 */

/** Page → iframe: store a token as the session cookie, or clear the cookie. */
export type IframeRequest =
  | { type: 'wsauth:set-session', id: string, token: string }
  | { type: 'wsauth:clear-session', id: string }

/** Iframe → page: the answer of `POST`/`DELETE <prefix>/session` for the request with the same `id`. */
export interface IframeReply {
  type: 'wsauth:result'
  id: string
  ok: boolean
  /** The HTTP status, or 0 when the request did not reach the server. */
  status: number
  /** The RFC 6750 `error` value of a refusal (`invalid_token`, …), `cookie_not_stored` or `network_error`. */
  error: string | null
}
