export {
  WsAuthClient, connect,
  type BackoffOptions, type ClientSocket, type ConnectOptions, type CredentialSource, type Timers, type TokenReason,
  type WebSocketConstructor,
} from './client.js'
export { WsAuthClientError, type WsAuthClientErrorCode } from './errors.js'
export type {
  ClientState, CloseReason, WsAuthClientEventMap, WsAuthCloseEvent, WsAuthErrorEvent, WsAuthMessageEvent, WsAuthStateEvent,
} from './events.js'
export type { TransportName } from './transports.js'
