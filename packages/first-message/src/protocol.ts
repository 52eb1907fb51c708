import type { RawData, WebSocket } from 'ws'
import { WsAuthError, type Credential, type Identity } from '@wsauth/core'
import type { InBandProtocol, LiveSession } from '@wsauth/ws-bearer'
import type { MessageCodec } from './messages.js'

export interface ProtocolSettings {
  codec: MessageCodec
  timeoutMs: number
  maxPayload: number
  expiringNoticeMs: number
}

type Emit = WebSocket['emit']
type MessageHandler = (emit: Emit, data: RawData, isBinary: boolean) => void

/**
 * Takes over a socket's 'message' events; `onMessage` gets the socket's own `emit` to pass a message on to the app.
 * Returns that `emit`, to put back. The protocol's messages must never reach the app, and a listener can't keep a
 * message from the other listeners (the app's run whatever order they were added in); ws emits every message through
 * the instance's `emit`, so an own `emit` on that one socket is the place to take them out. It costs one comparison
 * per event, and only sockets of routes that use the protocol have it.
 */
function intercept (socket: WebSocket, onMessage: MessageHandler): Emit {
  const emit = socket.emit
  socket.emit = function interceptedEmit (this: WebSocket, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'message') return emit.call(this, event, ...args)
    onMessage(emit, args[0] as RawData, args[1] as boolean)
    return true
  }
  return emit
}

// ws keeps the message size limit on each socket's Receiver, read for every frame; it has no per-socket option.
interface ReceiverLimit { _maxPayload: number }

function receiverOf (socket: WebSocket): ReceiverLimit {
  const receiver = (socket as unknown as { _receiver?: Partial<ReceiverLimit> })._receiver
  // Checked on every socket, so a ws that renames the field fails closed (1011) instead of lifting the pre-auth limit.
  if (typeof receiver?._maxPayload !== 'number') throw new Error('@wsauth/first-message: ws has no Receiver#_maxPayload')
  return receiver as ReceiverLimit
}

/** A socket between its auth message and `open`: what it sent behind the auth message, held for the app. */
interface Authenticating {
  /** The socket's `emit` before the protocol took its messages. */
  emit: Emit
  held: Array<[RawData, boolean]>
  receiver: ReceiverLimit
  serverMaxPayload: number
  onError: () => void
  onClose: () => void
}

export function createProtocol (settings: ProtocolSettings): InBandProtocol {
  const { codec, timeoutMs, maxPayload } = settings
  const authenticating = new WeakMap<WebSocket, Authenticating>()

  function awaitCredential (socket: WebSocket): Promise<Credential> {
    return new Promise((resolve, reject) => {
      const receiver = receiverOf(socket)
      const serverMaxPayload = receiver._maxPayload
      // 0 is ws's "no limit".
      receiver._maxPayload = serverMaxPayload > 0 ? Math.min(serverMaxPayload, maxPayload) : maxPayload
      const held: Array<[RawData, boolean]> = []
      let settled = false

      const fail = (error: WsAuthError): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        socket.off('close', onClose)
        // The guard closes the socket; reading must go on, or the client's closing handshake would wait for ws's timer.
        socket.resume()
        reject(error)
      }
      // ws has already closed the socket with the frame's code (1009 for a message over the limit); the error listener
      // also stays on after a failure, since ws reports such errors by emitting 'error', which must not go unheard.
      const onError = (): void => fail(new WsAuthError('malformed', 'message refused before authentication'))
      const onClose = (): void => fail(new WsAuthError('missing', 'closed before authenticating'))
      const timer = setTimeout(() => fail(new WsAuthError('timeout', 'no auth message before the deadline')), timeoutMs)

      const emit = intercept(socket, (_emit, data, isBinary) => {
        if (settled) {
          // Behind the auth message, while it is verified: for the app, in order. Reading is paused, so this holds no
          // more than the rest of the chunk the auth message came in; once the guard closes the socket, nothing.
          if (authenticating.has(socket) && socket.readyState === socket.OPEN) held.push([data, isBinary])
          return
        }
        clearTimeout(timer)
        let credential: Credential
        try {
          credential = codec.authCredential(data, isBinary)
        } catch (error) {
          fail(error as WsAuthError)
          return
        }
        settled = true
        socket.pause()
        authenticating.set(socket, { emit, held, receiver, serverMaxPayload, onError, onClose })
        resolve(credential)
      })
      socket.on('error', onError)
      socket.once('close', onClose)
    })
  }

  function refreshOrApp (socket: WebSocket, session: LiveSession, emit: Emit, data: RawData, isBinary: boolean): void {
    let token: string | undefined
    try {
      token = codec.refreshToken(data, isBinary)
    } catch (error) {
      session.reject(error as WsAuthError)
      return
    }
    if (token === undefined) {
      emit.call(socket, 'message', data, isBinary)
      return
    }
    session.refresh(token).then((identity) => {
      if (identity !== null) socket.send(codec.ok(identity.expiresAt))
    })
  }

  function open (socket: WebSocket, session: LiveSession): () => void {
    const pending = authenticating.get(socket)
    authenticating.delete(socket)
    if (pending !== undefined) {
      pending.receiver._maxPayload = pending.serverMaxPayload
      // From here @fastify/websocket's own error listener, added before the app's handler runs, takes over.
      socket.off('error', pending.onError)
      socket.off('close', pending.onClose)
      socket.emit = pending.emit
      socket.send(codec.ok(session.identity.expiresAt))
    }
    if (session.refreshable) intercept(socket, (emit, data, isBinary) => refreshOrApp(socket, session, emit, data, isBinary))
    if (pending === undefined) return () => {}
    return () => {
      // Through the socket's `emit` as it is now: refresh messages among them are taken out, the rest go to the app.
      for (const [data, isBinary] of pending.held) socket.emit('message', data, isBinary)
      socket.resume()
    }
  }

  function expiring (socket: WebSocket, identity: Identity): void {
    socket.send(codec.expiring(identity.expiresAt))
  }

  const { expiringNoticeMs } = settings
  const discovery = { timeoutMs, maxPayload, expiringNoticeMs, messages: { ...codec.names } }
  return { expiringNoticeMs, discovery, awaitCredential, open, expiring }
}
