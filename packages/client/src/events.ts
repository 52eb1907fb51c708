import type { WsAuthClientError } from './errors.js'

export type ClientState = 'connecting' | 'authenticating' | 'open' | 'reconnecting' | 'closed'

/**
 * Why the client closed for good:
 * - `client`: the app called `close()`;
 * - `bad-request` (4400) and `forbidden` (4403): the server refused, and retrying would not change that;
 * - `signed-out`: `getToken` or `getTicket` resolved `null`;
 * - `gave-up`: the reconnect attempts ran out;
 * - `discovery`: the discovery document is missing or malformed;
 * - `unsupported`: no route or no usable transport in it for this URL;
 * - `server`: the server ended the session with a code the client does not retry (1000, or one of the app's).
 */
export type CloseReason = 'client' | 'bad-request' | 'forbidden' | 'signed-out' | 'gave-up' | 'discovery' | 'unsupported' | 'server'

export interface WsAuthMessageEvent extends Event {
  /** As the WebSocket delivered it: a string for text; for binary, per `binaryType`. */
  readonly data: unknown
}

export interface WsAuthStateEvent extends Event {
  readonly state: ClientState
}

export interface WsAuthCloseEvent extends Event {
  /** The last close code: the server's, the app's own for `close()`, 1006 when no socket got that far. */
  readonly code: number
  readonly reason: CloseReason
  /** The server's close reason text (`forbidden`, `access withdrawn`, …), or the app's for `close()`; often empty. */
  readonly serverReason: string
}

export interface WsAuthErrorEvent extends Event {
  readonly error: WsAuthClientError
}

export interface WsAuthClientEventMap {
  open: Event
  message: WsAuthMessageEvent
  state: WsAuthStateEvent
  close: WsAuthCloseEvent
  error: WsAuthErrorEvent
}

/** An event of `type` with `fields` on it. */
export function clientEvent<K extends keyof WsAuthClientEventMap> (type: K, fields: Omit<WsAuthClientEventMap[K], keyof Event>): WsAuthClientEventMap[K] {
  return Object.assign(new Event(type), fields) as WsAuthClientEventMap[K]
}
