export { WsAuthClient, connect } from './client.js'
export type { CredentialSource, TokenReason } from './credential.js'
export type { ConnectOptions, Timers } from './options.js'
export type { BackoffOptions } from './retry.js'
export type { ClientSocket, WebSocketConstructor } from './socket.js'
export { WsAuthClientError, type WsAuthClientErrorCode } from './errors.js'
export type {
  ClientState, CloseReason, WsAuthClientEventMap, WsAuthCloseEvent, WsAuthErrorEvent, WsAuthMessageEvent, WsAuthStateEvent,
} from './events.js'
export type { TransportName } from './transports.js'
