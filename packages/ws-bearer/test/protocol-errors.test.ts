// A client that breaks the WebSocket framing (here: an unmasked frame, RFC 6455 §5.1) on a socket the guard refuses
// or still holds. ws reports it as an 'error' event; with nobody listening, that event ended the whole server.
import { connect as netConnect } from 'node:net'
import t from 'tap'
import { build, stillServes } from '../../../test/helpers/index.ts'
import { handshakeRequest, opened } from '../../../test/helpers/ws.ts'
import { build as buildFirstMessage } from '../../first-message/test/fixture.ts'

// FIN + text opcode, payload length 2 without the mask bit, "hi": every client-to-server frame must be masked.
const UNMASKED_FRAME = Buffer.from([0x81, 0x02, 0x68, 0x69])

/** Upgrades on `path` with no credential, sends an unmasked frame once the 101 is in, and resolves when the server ends the socket. */
function sendUnmaskedFrame (port: number, path: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1')
    let head = ''
    let status = 0
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      if (status !== 0) return
      head += chunk
      if (!head.includes('\r\n\r\n')) return
      status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
      socket.write(UNMASKED_FRAME)
    })
    socket.on('close', () => resolve({ status }))
    socket.on('error', reject)
    socket.write(handshakeRequest(port, path, []))
  })
}

t.test('a refused close-mode socket that gets a bad frame is ended, and the server keeps serving', async (t) => {
  const fx = await build(t)
  for (let i = 0; i < 3; i++) {
    t.strictSame(await sendUnmaskedFrame(fx.port, '/close-mode'), { status: 101 })
  }
  t.equal(fx.handled, 0, 'the app never had the socket')
  await stillServes(t, fx)
})

t.test('a socket awaiting its first message that gets a bad frame is ended, and the server keeps serving', async (t) => {
  const fx = await buildFirstMessage(t)
  const port = Number(new URL(fx.url('/fm')).port)
  for (let i = 0; i < 3; i++) {
    t.strictSame(await sendUnmaskedFrame(port, '/fm'), { status: 101 })
  }
  t.equal(fx.handled, 0, 'the app never had the socket')
  const { socket } = await opened(fx.url('/fm'), { headers: { Authorization: `Bearer ${fx.sign('alice')}` } })
  t.equal(socket.readyState, socket.OPEN, 'a good handshake still gets in')
  socket.close()
})
