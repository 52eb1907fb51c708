import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

type UpgradeListener = (this: Server, request: IncomingMessage, socket: Duplex, head: Buffer) => void

// The response Node is writing on a socket: set while a response is in flight, cleared once it has finished. Not in
// Node's documentation, but it is exactly what `ServerResponse#assignSocket` checks before it throws
// ERR_HTTP_SOCKET_ASSIGNED.
interface HttpSocket extends Duplex { _httpMessage?: ServerResponse | null }

/** Runs `dispatch` once no response is in flight on the socket; ends the socket instead if a response ahead closed it. */
function whenIdle (socket: HttpSocket, dispatch: () => void): void {
  const ahead = socket._httpMessage
  if (ahead == null) {
    dispatch()
    return
  }
  // Node took its own error listener off the socket when it handed the upgrade over, and a socket nobody reads only
  // learns of a reset when the response ahead writes to it, which fails that response: until the upgrade's listeners
  // add their own, either error destroys the socket instead of going uncaught.
  const destroySocket = (): void => { socket.destroy() }
  socket.on('error', destroySocket)
  ahead.on('error', destroySocket)
  // 'close' follows the response's 'finish' (and a socket that closed first): by then Node has moved the socket to the
  // next pipelined response, if there is one, or to none.
  ahead.once('close', () => {
    // A socket that is gone keeps the listener: its error can still come after this.
    if (socket.destroyed) return
    // The response ahead ended the connection (`Connection: close`): nothing may follow it.
    if (!socket.writable) {
      socket.destroy()
      return
    }
    socket.off('error', destroySocket)
    whenIdle(socket, dispatch)
  })
}

/**
 * Holds an upgrade request that arrives behind a response still being written (`GET /` and an upgrade pipelined in
 * one write) until that response has finished, then hands it to the server's upgrade listeners, in order.
 *
 * Node hands such an upgrade to the 'upgrade' listeners at once. @fastify/websocket's listener then assigns a new
 * response to a socket that still has one, which throws ERR_HTTP_SOCKET_ASSIGNED; it logs a warning and drops the
 * request, and since Node has already taken its own listeners off the socket, nothing ever answers or closes it: it
 * sits in CLOSE-WAIT once the client gives up, an anonymous file-descriptor leak. Waiting for the response ahead is
 * what HTTP/1.1 pipelining asks for anyway (answers in order), and afterwards the socket is as @fastify/websocket
 * expects it.
 *
 * Wraps the listeners present now (@fastify/websocket's, registered before the guard); returns a function that takes
 * the wrapper off again, for shutdown.
 */
export function holdUpgradesBehindResponses (server: Server): () => void {
  const listeners = server.listeners('upgrade') as UpgradeListener[]
  if (listeners.length === 0) return () => {}
  for (const listener of listeners) server.removeListener('upgrade', listener)
  const upgradeWhenIdle = function upgradeWhenIdle (this: Server, request: IncomingMessage, socket: Duplex, head: Buffer): void {
    whenIdle(socket, () => {
      for (const listener of listeners) listener.call(this, request, socket, head)
    })
  }
  server.on('upgrade', upgradeWhenIdle)
  return () => { server.removeListener('upgrade', upgradeWhenIdle) }
}
