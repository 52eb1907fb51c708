// A client that breaks the WebSocket framing (an unmasked frame, RFC 6455 §5.1) while its socket waits for the first
// message: ws reports it as an 'error' event, which ended the whole server while nobody listened for it.
import t from 'tap'
import { opened, sendUnmaskedFrame } from '../../../test/helpers/ws.ts'
import { build } from './fixture.ts'

t.test('a socket awaiting its first message that gets a bad frame is ended, and the server keeps serving', async (t) => {
  const fx = await build(t)
  const port = Number(new URL(fx.url('/fm')).port)
  for (let i = 0; i < 3; i++) {
    t.strictSame(await sendUnmaskedFrame(port, '/fm'), { status: 101 })
  }
  t.equal(fx.handled, 0, 'the app never had the socket')
  const { socket } = await opened(fx.url('/fm'), { headers: { Authorization: `Bearer ${fx.sign('alice')}` } })
  t.equal(socket.readyState, socket.OPEN, 'a good handshake still gets in')
  socket.close()
})
