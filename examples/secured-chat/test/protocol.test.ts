// The chat protocol over real TCP (the ws client, Authorization: Bearer): every bad message gets an `error` frame and
// the socket goes on serving (each case ends with a good message answered on the same socket); a flood is closed
// with 4429. The rate limit reads the app's clock, which only the test moves.
import t, { type Test } from 'tap'
import { closed, opened } from '../../../test/helpers/index.ts'
import { MAX_MESSAGE_BYTES, MAX_TEXT_LENGTH } from '../src/protocol.ts'
import { chatSocket, join, next, send, startNode } from './fixture.ts'

t.test('protocol', async (t) => {
  const node = await startNode(t)
  const { socket, rooms } = await chatSocket(node, 'janedoe')
  t.strictSame(rooms, {
    type: 'rooms',
    subject: 'janedoe',
    rooms: [{ name: 'general', allowed: true }, { name: 'random', allowed: true }, { name: 'admins', allowed: false }],
  }, 'the room list first, with what her scopes allow')
  const joined = await join(socket, 'general')
  t.strictSame(joined.history, { type: 'history', room: 'general', messages: [] })
  t.strictSame(joined.presence, { type: 'presence', room: 'general', online: ['janedoe'] })

  // The good message after each bad one: a `say`, echoed back to the sender by the hub. Other users coming and going
  // in `general` meanwhile send her presence updates, which are not the answer.
  let said = 0
  const stillServes = async (t: Test): Promise<void> => {
    const text = `still here ${++said}`
    send(socket, { type: 'say', room: 'general', text })
    let answer = await next(socket)
    while (answer.type === 'presence') answer = await next(socket)
    t.match(answer, { type: 'say', room: 'general', from: 'janedoe', text, id: said }, 'the next good message is answered')
  }

  const cases: Array<[string, string | Buffer, boolean, Record<string, unknown>]> = [
    ['not JSON', '{"type":', false, { code: 'bad_json' }],
    ['JSON, not an object', '42', false, { code: 'unknown_type' }],
    ['null', 'null', false, { code: 'unknown_type' }],
    ['an array', '[{"type":"join","room":"general"}]', false, { code: 'unknown_type' }],
    ['no type', '{"room":"general"}', false, { code: 'unknown_type' }],
    ['an unknown type', '{"type":"shout","room":"general"}', false, { code: 'unknown_type' }],
    ['a type that is a prototype key', '{"type":"constructor","room":"general"}', false, { code: 'unknown_type' }],
    ['a type that is not a string', '{"type":["say"],"room":"general"}', false, { code: 'unknown_type' }],
    ['join without a room', '{"type":"join"}', false, { code: 'invalid_message', message: 'join needs a room' }],
    ['a room that is not a string', '{"type":"join","room":7}', false, { code: 'invalid_message' }],
    ['a room with characters no room has', '{"type":"join","room":"<b>x</b>"}', false, { code: 'invalid_message' }],
    ['an extra property', '{"type":"leave","room":"general","as":"johndoe"}', false, { code: 'invalid_message' }],
    ['say without text', '{"type":"say","room":"general"}', false, { code: 'invalid_message' }],
    ['say with empty text', '{"type":"say","room":"general","text":""}', false, { code: 'invalid_message' }],
    ['say with a text too long', JSON.stringify({ type: 'say', room: 'general', text: 'x'.repeat(MAX_TEXT_LENGTH + 1) }), false, { code: 'invalid_message' }],
    ['say with a text that is not a string', '{"type":"say","room":"general","text":{"html":"<b>"}}', false, { code: 'invalid_message' }],
    ['a room that does not exist', '{"type":"join","room":"lobby"}', false, { code: 'unknown_room', room: 'lobby' }],
    ['say in a room not joined', '{"type":"say","room":"random","text":"hi"}', false, { code: 'not_joined', room: 'random' }],
    ['leave a room not joined', '{"type":"leave","room":"random"}', false, { code: 'not_joined', room: 'random' }],
    ['history of a room not joined', '{"type":"history","room":"random"}', false, { code: 'not_joined', room: 'random' }],
    ['join a room her scopes do not allow', '{"type":"join","room":"admins"}', false, { code: 'forbidden', room: 'admins' }],
    ['a binary frame', Buffer.from('{"type":"join","room":"general"}'), true, { code: 'binary' }],
    ['a message over 4 KB', JSON.stringify({ type: 'say', room: 'general', text: 'x'.repeat(MAX_MESSAGE_BYTES) }), false, { code: 'too_large' }],
  ]
  for (const [name, data, binary, expected] of cases) {
    await t.test(name, async (t) => {
      // A second of the app's clock per case: the rate limit is never what answers here.
      node.clock.advance(1000)
      socket.send(data, { binary })
      t.match(await next(socket), { type: 'error', ...expected })
      await stillServes(t)
    })
  }
  t.equal(socket.readyState, socket.OPEN, 'the socket is still open after every bad message')

  await t.test('history on request, and a join of a joined room answers its history again', async (t) => {
    node.clock.advance(1000)
    send(socket, { type: 'history', room: 'general' })
    const history = await next(socket)
    t.equal(history.type, 'history')
    t.equal((history.messages as unknown[]).length, said, 'every message said so far')
    send(socket, { type: 'join', room: 'general' })
    t.match(await next(socket), { type: 'history', room: 'general' })
    await stillServes(t)
  })

  await t.test('leave: acknowledged, and the room is left', async (t) => {
    node.clock.advance(1000)
    send(socket, { type: 'leave', room: 'general' })
    t.strictSame(await next(socket), { type: 'leave', room: 'general' })
    send(socket, { type: 'say', room: 'general', text: 'gone?' })
    t.match(await next(socket), { type: 'error', code: 'not_joined' })
    const again = await join(socket, 'general')
    t.equal((again.history.messages as unknown[]).length, said, 'the history is still there')
    await stillServes(t)
  })

  await t.test('the rate limit: the 21st message in one instant is refused, then allowed once time has passed', async (t) => {
    node.clock.advance(1000)
    for (let i = 0; i < 20; i++) send(socket, { type: 'history', room: 'general' })
    for (let i = 0; i < 20; i++) t.equal((await next(socket)).type, 'history')
    send(socket, { type: 'history', room: 'general' })
    t.match(await next(socket), { type: 'error', code: 'rate_limited' })
    t.equal(socket.readyState, socket.OPEN)
    node.clock.advance(1000)
    await stillServes(t)
  })

  // Below the chat protocol, the WebSocket protocol's own limits are ws's: a frame it can't take closes the socket.
  for (const [name, data, code] of [
    ['a frame over the server\'s 64 KiB frame limit: 1009', 'x'.repeat(64 * 1024 + 1), 1009],
    ['a text frame that is not UTF-8 (RFC 6455 §8.1): 1007', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 1007],
  ] as const) {
    await t.test(`${name}, and the server serves on`, async (t) => {
      const { socket: other } = await chatSocket(node, 'janedoe')
      const done = closed(other)
      other.send(data, { binary: false })
      t.equal((await done).code, code)
      await stillServes(t)
    })
  }

  await t.test('a flood is closed with 4429, and the user can come back', async (t) => {
    node.clock.advance(1000)
    const { socket: flood } = await chatSocket(node, 'johndoe')
    const done = closed(flood)
    // 20 allowed, then 20 refused with an error frame each, then the close.
    for (let i = 0; i < 50; i++) send(flood, { type: 'join', room: 'lobby' })
    const errors: string[] = []
    flood.on('message', (data) => errors.push((JSON.parse(String(data)) as { code: string }).code))
    t.match(await done, { code: 4429, reason: 'too many requests; retry-after=1' })
    t.equal(errors.filter((code) => code === 'rate_limited').length, 20, 'an error frame for each refused message before the close')
    node.clock.advance(1000)
    const { socket: back } = await chatSocket(node, 'johndoe')
    await join(back, 'general')
    back.close()
    await stillServes(t)
  })

  await t.test('no token, a bad token: closed by the guard with 4401 (close mode), no chat frame first', async (t) => {
    for (const headers of [{}, { authorization: 'Bearer not-a-token' }] as Array<Record<string, string>>) {
      const { socket: refusedSocket } = await opened(node.url, { headers })
      const seen: string[] = []
      refusedSocket.on('message', (data) => seen.push(String(data)))
      t.equal((await closed(refusedSocket)).code, 4401)
      t.strictSame(seen, [])
    }
    await stillServes(t)
  })

  await t.test('a token without the chat scope: 4403', async (t) => {
    const token = node.app.jwt.sign({ sub: 'outsider', scope: 'other' })
    const { socket: outsider } = await opened(node.url, { headers: { authorization: `Bearer ${token}` } })
    t.equal((await closed(outsider)).code, 4403)
    await stillServes(t)
  })

  await t.test('an Origin not allowed: 4403', async (t) => {
    const token = await node.signIn('janedoe', 'secret2')
    const { socket: foreign } = await opened(node.url, { headers: { authorization: `Bearer ${token.access_token}`, origin: 'https://evil.test' } })
    t.equal((await closed(foreign)).code, 4403)
    await stillServes(t)
  })

  socket.close()
})
