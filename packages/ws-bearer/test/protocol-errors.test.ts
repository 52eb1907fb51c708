// A client that breaks the WebSocket framing (here: an unmasked frame, RFC 6455 §5.1) on a socket the guard refuses
// or still holds. ws reports it as an 'error' event; with nobody listening, that event ended the whole server.
import t from 'tap'
import { build, stillServes } from '../../../test/helpers/index.ts'
import { sendUnmaskedFrame } from '../../../test/helpers/ws.ts'

t.test('a refused close-mode socket that gets a bad frame is ended, and the server keeps serving', async (t) => {
  const fx = await build(t)
  for (let i = 0; i < 3; i++) {
    t.strictSame(await sendUnmaskedFrame(fx.port, '/close-mode'), { status: 101 })
  }
  t.equal(fx.handled, 0, 'the app never had the socket')
  await stillServes(t, fx)
})
