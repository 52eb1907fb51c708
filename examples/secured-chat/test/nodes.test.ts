// The chat on several nodes through a real redis-server: two nodes in process (each its own Fastify app and its own
// Redis connections) and, for the crash, a third one spawned as `start` runs it and killed with SIGKILL. Over real TCP
// with the ws client.
import t from 'tap'
import { startExample } from '../../../test/helpers/example.ts'
import { closed, nextMessage, opened } from '../../../test/helpers/index.ts'
import { startRedis } from '../../../test/helpers/redis.ts'
import { RedisHub } from '../src/hub/redis.ts'
import { JWT_SECRET, TestClock, chatSocket, join, next, send, startNode, type ChatNode, type Received } from './fixture.ts'

/** The next message of one of `types`, skipping the others (presence updates come whenever people come and go). */
async function nextOf (socket: Parameters<typeof next>[0], ...types: string[]): Promise<Received> {
  for (;;) {
    const message = await next(socket)
    if (types.includes(message.type)) return message
  }
}

/** Presence messages of `room` until one lists exactly `online`. */
async function presenceBecomes (socket: Parameters<typeof next>[0], room: string, online: string[]): Promise<void> {
  for (;;) {
    const message = await nextOf(socket, 'presence')
    if (message.room === room && JSON.stringify(message.online) === JSON.stringify(online)) return
  }
}

t.test('two nodes, one chat', async (t) => {
  const redis = await startRedis(t)
  // Heartbeats only when the test calls them.
  const node = async (clock: TestClock): Promise<ChatNode & { hub: RedisHub }> => {
    const hub = new RedisHub({ redis: redis.url, clock: clock.now, heartbeatMs: 0 })
    return { ...await startNode(t, { hub, testClock: clock, config: { redisUrl: redis.url } }), hub }
  }
  const a = await node(new TestClock())
  const b = await node(new TestClock())

  await t.test('johndoe on A, janedoe on B: presence, messages both ways, history for a latecomer', async (t) => {
    const john = await chatSocket(a, 'johndoe')
    const jane = await chatSocket(b, 'janedoe')
    await join(john.socket, 'general')
    await join(jane.socket, 'general')
    await presenceBecomes(john.socket, 'general', ['janedoe', 'johndoe'])

    send(john.socket, { type: 'say', room: 'general', text: 'hi jane, from A' })
    t.match(await nextOf(jane.socket, 'say'), { room: 'general', from: 'johndoe', text: 'hi jane, from A' })
    t.match(await nextOf(john.socket, 'say'), { from: 'johndoe', text: 'hi jane, from A' }, 'the sender\'s copy')
    send(jane.socket, { type: 'say', room: 'general', text: 'hi john, from B' })
    t.match(await nextOf(john.socket, 'say'), { from: 'janedoe', text: 'hi john, from B' })

    const late = await chatSocket(a, 'janedoe')
    const { history, presence } = await join(late.socket, 'general')
    t.match(history.messages, [{ from: 'johndoe', text: 'hi jane, from A' }, { from: 'janedoe', text: 'hi john, from B' }])
    t.strictSame(presence.online, ['janedoe', 'johndoe'], 'janedoe once, though on both nodes')

    jane.socket.close()
    late.socket.close()
    await presenceBecomes(john.socket, 'general', ['johndoe'])
    john.socket.close()
  })

  await t.test('a refresh that drops admin takes the socket out of admins; one that keeps it changes nothing', async (t) => {
    const john = await chatSocket(a, 'johndoe')
    t.match(john.rooms.rooms, [{ name: 'general', allowed: true }, { name: 'random', allowed: true }, { name: 'admins', allowed: true }])
    await join(john.socket, 'admins')
    const watcher = await chatSocket(b, 'johndoe')
    await join(watcher.socket, 'general')

    const keeping = await a.signIn('johndoe', 'secret')
    send(john.socket, { type: 'auth.refresh', token: keeping.access_token })
    t.match(JSON.parse(await nextMessage(john.socket)), { type: 'auth.ok' }, 'only auth.ok: still in admins')
    send(john.socket, { type: 'say', room: 'admins', text: 'still here' })
    t.match(await next(john.socket), { type: 'say', room: 'admins', text: 'still here' })

    const chatOnly = await a.signIn('johndoe', 'secret', 'chat')
    send(john.socket, { type: 'auth.refresh', token: chatOnly.access_token })
    const answers = [await next(john.socket), await next(john.socket), await next(john.socket)]
    t.strictSame(answers.map((answer) => answer.type).sort(), ['auth.ok', 'leave', 'rooms'])
    t.strictSame(answers.find((answer) => answer.type === 'leave'), { type: 'leave', room: 'admins', reason: 'forbidden' })
    t.match(answers.find((answer) => answer.type === 'rooms'), { rooms: [{ name: 'general', allowed: true }, { name: 'random', allowed: true }, { name: 'admins', allowed: false }] })
    send(john.socket, { type: 'say', room: 'admins', text: 'and now?' })
    t.match(await next(john.socket), { type: 'error', code: 'not_joined', room: 'admins' })
    send(john.socket, { type: 'join', room: 'admins' })
    t.match(await next(john.socket), { type: 'error', code: 'forbidden', room: 'admins' })
    t.equal(john.socket.readyState, john.socket.OPEN, 'the socket itself goes on')
    t.equal(watcher.socket.readyState, watcher.socket.OPEN)
    john.socket.close()
    watcher.socket.close()
  })

  await t.test('a node that crashes: its users go offline once their presence lapses, at the next heartbeat', async (t) => {
    const crashing = await startExample('secured-chat', { REDIS_URL: redis.url, JWT_SECRET, LOG_LEVEL: 'warn' })
    t.teardown(() => crashing.stop('SIGKILL'))
    const crashingNode = {
      url: `${crashing.wsUrl}/chat`,
      signIn: async (username: string, password: string) => {
        const response = await fetch(`${crashing.baseUrl}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', username, password }) })
        return await response.json() as { access_token: string }
      },
    }
    const token = await crashingNode.signIn('janedoe', 'secret2')
    const { socket: jane } = await opened(crashingNode.url, { headers: { authorization: `Bearer ${token.access_token}` } })
    await next(jane)
    await join(jane, 'random')

    // The watching node's clock runs with the real one (the crashed node stamped its marks with the real time).
    const clock = new TestClock('running')
    const watching = await node(clock)
    const john = await chatSocket(watching, 'johndoe')
    const { presence } = await join(john.socket, 'random')
    t.strictSame(presence.online, ['janedoe', 'johndoe'])

    const janeClosed = closed(jane)
    await crashing.stop('SIGKILL')
    await janeClosed
    // Past the lifetime of any mark the dead node can have renewed (15 s).
    clock.advance(16_000)
    await watching.hub.heartbeat()
    await presenceBecomes(john.socket, 'random', ['johndoe'])
    t.pass('janedoe went offline after her node\'s marks lapsed')
    john.socket.close()
  })
})
