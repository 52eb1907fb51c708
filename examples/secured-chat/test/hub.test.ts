// The hub contract, run against both hubs: MemoryHub (several on one shared state) and RedisHub (several on one real
// redis-server, each with its own connections). Nodes share one hand-moved clock; a "crashed" node is one that stops
// renewing its presence marks (heartbeats here are called by the test: `heartbeatMs: 0`).
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from '../../../test/helpers/redis.ts'
import type { ChatHub, HubEvent, HubOptions } from '../src/hub/hub.ts'
import { MemoryChatState, MemoryHub } from '../src/hub/memory.ts'
import { RedisHub } from '../src/hub/redis.ts'
import { TestClock } from './fixture.ts'

/** Events a node was given, in order; `next` waits for the next one not yet taken. */
class Inbox {
  readonly #events: HubEvent[] = []
  readonly #waiting: Array<(event: HubEvent) => void> = []
  readonly deliver = (event: HubEvent): void => {
    const waiter = this.#waiting.shift()
    if (waiter === undefined) this.#events.push(event)
    else waiter(event)
  }

  next (): Promise<HubEvent> {
    const event = this.#events.shift()
    return event === undefined ? new Promise((resolve) => this.#waiting.push(resolve)) : Promise.resolve(event)
  }

  /** The next presence event of `room`, skipping other events. */
  async presence (room: string): Promise<{ online: string[], version: number }> {
    for (;;) {
      const event = await this.next()
      if (event.kind === 'presence' && event.room === room) return { online: event.online, version: event.version }
    }
  }

  get pending (): number {
    return this.#events.length
  }
}

interface Node { hub: ChatHub, inbox: Inbox }

/** A node of the chat named `chat`: nodes of one chat share their state, and chats don't. */
type NodeFactory = (t: Test, chat: string, options: HubOptions) => Promise<Node>

const SETTINGS = { heartbeatMs: 0, presenceTtlMs: 15_000 }

function contract (name: string, factory: () => Promise<NodeFactory>): void {
  t.test(name, async (t) => {
    const makeNode = await factory()
    const clock = new TestClock()
    let chats = 0
    const nodes = async (count: number): Promise<Node[]> => {
      const chat = `chat${++chats}`
      return await Promise.all(Array.from({ length: count }, () => makeNode(t, chat, { ...SETTINGS, clock: clock.now })))
    }

    await t.test('messages: ids in order, delivered to every node, history keeps the last 50', async (t) => {
      const [a, b] = await nodes(2)
      const first = await a!.hub.post('general', 'alice', 'hello <b>world</b>')
      t.match(first, { id: 1, room: 'general', from: 'alice', text: 'hello <b>world</b>', at: clock.now() })
      t.strictSame(await a!.inbox.next(), { kind: 'say', message: first })
      t.strictSame(await b!.inbox.next(), { kind: 'say', message: first }, 'the other node has it too')
      const second = await b!.hub.post('general', 'bob', 'hi "alice" \\ \u2603')
      t.equal(second.id, 2)
      t.strictSame(await a!.inbox.next(), { kind: 'say', message: second }, 'text survives the trip as it was')
      await b!.inbox.next()
      for (let i = 1; i <= 55; i++) await a!.hub.post('random', 'alice', `m${i}`)
      const random = await b!.hub.history('random')
      t.equal(random.length, 50)
      t.match(random[0], { id: 6, text: 'm6' }, 'the oldest kept; ids count per room')
      t.equal(random.at(-1)!.text, 'm55', 'oldest first')
      t.strictSame((await a!.hub.history('general')).map((message) => message.id), [1, 2], 'rooms are separate')
      t.strictSame(await a!.hub.history('admins'), [])
    })

    await t.test('presence: per node and subject, versions grow, every node hears each change', async (t) => {
      const [a, b] = await nodes(2)
      const entered = await a!.hub.enter('lobby', 'alice')
      t.strictSame(entered.online, ['alice'])
      t.strictSame(await b!.inbox.presence('lobby'), entered)
      const both = await b!.hub.enter('lobby', 'bob')
      t.strictSame(both.online, ['alice', 'bob'])
      t.ok(both.version > entered.version)
      t.strictSame(await a!.inbox.presence('lobby'), entered)
      t.strictSame(await a!.inbox.presence('lobby'), both)
      // alice on the second node too: online until both have let go.
      const twice = await b!.hub.enter('lobby', 'alice')
      t.strictSame(twice.online, ['alice', 'bob'])
      await a!.hub.leave('lobby', 'alice')
      t.strictSame((await b!.hub.presence('lobby')).online, ['alice', 'bob'], 'still on the second node')
      await b!.hub.leave('lobby', 'alice')
      const after = await a!.hub.presence('lobby')
      t.strictSame(after.online, ['bob'])
      const unchanged = await a!.hub.presence('lobby')
      t.equal(unchanged.version, after.version, 'reading changes nothing')
      // Every change reached the first node, in order, the last one being the truth.
      let last = await a!.inbox.presence('lobby')
      while (a!.inbox.pending > 0) last = await a!.inbox.presence('lobby')
      t.strictSame(last, after)
    })

    await t.test('a node that stops heartbeating: its marks lapse, the next heartbeat elsewhere drops them', async (t) => {
      const [a, b] = await nodes(2)
      await a!.hub.enter('crash', 'alice')
      await b!.hub.enter('crash', 'carol')
      await a!.inbox.presence('crash')
      t.strictSame((await a!.inbox.presence('crash')).online, ['alice', 'carol'])
      // b goes silent. Within the lifetime of its marks nothing changes.
      clock.advance(10_000)
      await a!.hub.heartbeat()
      t.strictSame((await a!.hub.presence('crash')).online, ['alice', 'carol'])
      clock.advance(10_000)
      t.equal(a!.inbox.pending, 0, 'no presence change until a heartbeat drops the lapsed mark')
      await a!.hub.heartbeat()
      t.strictSame((await a!.inbox.presence('crash')).online, ['alice'], 'carol is gone; alice, renewed 10 s ago, stays')
      t.strictSame((await a!.hub.presence('crash')).online, ['alice'])
    })

    await t.test('close takes the node\'s marks back at once', async (t) => {
      const [a, b] = await nodes(2)
      await a!.hub.enter('closing', 'alice')
      await b!.hub.enter('closing', 'dave')
      t.strictSame((await a!.hub.presence('closing')).online, ['alice', 'dave'])
      await b!.hub.close()
      t.strictSame((await a!.hub.presence('closing')).online, ['alice'])
    })
  })
}

contract('MemoryHub', async () => {
  const states = new Map<string, MemoryChatState>()
  return async (t, chat, options) => {
    const inbox = new Inbox()
    if (!states.has(chat)) states.set(chat, new MemoryChatState())
    const hub = new MemoryHub({ ...options, state: states.get(chat)! })
    await hub.start(inbox.deliver)
    t.teardown(() => hub.close())
    return { hub, inbox }
  }
})

contract('RedisHub', async () => {
  const redis = await startRedis(t)
  return async (t, chat, options) => {
    const inbox = new Inbox()
    const hub = new RedisHub({ ...options, redis: redis.url, prefix: `${chat}:` })
    await hub.start(inbox.deliver)
    t.teardown(() => hub.close())
    return { hub, inbox }
  }
})

t.test('RedisHub: a subscriber cut off reconnects and sends its rooms\' presence afresh; Redis away is an error, not a wait', async (t) => {
  const redis = await startRedis(t)
  const admin = new Redis(redis.url)
  t.teardown(() => admin.disconnect())
  const clock = new TestClock()
  const inbox = new Inbox()
  const hub = new RedisHub({ ...SETTINGS, clock: clock.now, redis: redis.url, prefix: 'cut:' })
  await hub.start(inbox.deliver)
  t.teardown(() => hub.close())
  await hub.enter('general', 'alice')
  t.strictSame((await inbox.presence('general')).online, ['alice'])

  // While the subscriber is away, another node changes the room's presence: that event is lost to this node.
  const other = new RedisHub({ ...SETTINGS, clock: clock.now, redis: redis.url, prefix: 'cut:' })
  await other.start(() => {})
  t.teardown(() => other.close())
  t.equal(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'), 2, 'both nodes\' subscribers cut off')
  await other.enter('general', 'bob')
  t.strictSame((await inbox.presence('general')).online, ['alice', 'bob'], 'sent afresh once the subscriber is back')
  await hub.post('general', 'alice', 'after the cut')
  t.match(await inbox.next(), { kind: 'say', message: { text: 'after the cut' } }, 'and events flow again')

  admin.disconnect()
  await redis.stop()
  await t.rejects(hub.post('general', 'alice', 'into the void'), 'a post while Redis is away fails instead of waiting')
  await t.rejects(hub.history('general'))
})
