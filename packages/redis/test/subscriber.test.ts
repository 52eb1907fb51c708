// A node's subscriber killed from the server side (CLIENT KILL): it reconnects by itself, and its denylist mirror is
// reloaded, so a revocation it could have missed is still enforced.
import { once } from 'node:events'
import t from 'tap'
import type { Redis } from 'ioredis'
import { startRedis } from '../../../test/helpers/redis.ts'
import { bearer, stillServes } from '../../../test/helpers/app.ts'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { adminClient, startNode, type Node } from './fixture.ts'

const server = await startRedis(t)

/** Kills B's subscriber connection on the server and resolves once B has seen it go. */
async function killSubscriber (admin: Redis, node: Node, name: string): Promise<void> {
  const clients = String(await admin.client('LIST')).split('\n').filter((line) => line.includes(` name=${name} `) && / sub=1 /.test(line))
  if (clients.length !== 1) throw new Error(`expected one subscriber named ${name}, found ${clients.length}`)
  const id = /(?:^| )id=(\d+)/.exec(clients[0]!)![1]!
  const lost = once(node.stores.subscriber, 'close')
  await admin.client('KILL', 'ID', id)
  await lost
}

t.test('an entry B never heard of (written while it could not hear) is in its mirror once its subscriber is back', async (t) => {
  const a = await startNode(t, server, { prefix: 'kill1:', redis: { connectionName: 'kill1-a' } })
  const b = await startNode(t, server, { prefix: 'kill1:', redis: { connectionName: 'kill1-b' } })
  const admin = await adminClient(t, server)
  const token = b.sign({ sub: 'alice', jti: 'missed' }, { expiresIn: 600 })
  const { socket } = await opened(b.url(), bearer(token))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  const socketClosed = closed(socket)
  // Written straight into Redis, with no message: what a node sees of a revocation published while it was away.
  await admin.zadd('kill1:denylist', Date.now() + 600_000, 'missed')
  t.equal(b.stores.denyList.has('missed'), false, 'B\'s mirror did not hear of it')
  await killSubscriber(admin, b, 'kill1-b')
  t.equal(b.stores.denyList.synced, false, 'B knows it may have missed messages')
  await b.stores.ready()
  t.equal(b.stores.denyList.has('missed'), true, 'reconnected by itself, and the mirror was reloaded')
  t.strictSame(await socketClosed, { code: 4401, reason: 'token revoked' }, 'the token\'s live socket on B is closed on reload')
  t.equal((await refused(b.url(), bearer(token))).status, 401, 'so the token is refused on B')
  await stillServes(t, b)
  await stillServes(t, a)
})

t.test('a revocation published on A while B\'s subscriber is gone is enforced on B', async (t) => {
  const a = await startNode(t, server, { prefix: 'kill2:', redis: { connectionName: 'kill2-a' } })
  const b = await startNode(t, server, { prefix: 'kill2:', redis: { connectionName: 'kill2-b' } })
  const admin = await adminClient(t, server)
  const token = b.sign({ sub: 'alice', jti: 'revoked-while-away' }, { expiresIn: 600 })
  const { socket } = await opened(b.url(), bearer(token))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  const socketClosed = closed(socket)
  await killSubscriber(admin, b, 'kill2-b')
  await a.app.wsAuth.revokeToken('revoked-while-away', Date.now() + 600_000)
  t.equal((await refused(b.url(), bearer(token))).status, 401, 'B refuses it at once: without its subscriber it asks Redis')
  await b.stores.ready()
  t.equal(b.stores.denyList.has('revoked-while-away'), true, 'and, back, from its mirror')
  t.strictSame(await socketClosed, { code: 4401, reason: 'token revoked' }, 'its live socket on B closed, by the message or the reload')
  await stillServes(t, b)
})

t.test('whatever else is published on the channel is ignored; the node keeps serving', async (t) => {
  const a = await startNode(t, server, { prefix: 'noise:' })
  const admin = await adminClient(t, server)
  const token = a.sign({ sub: 'alice', jti: 'noise' }, { expiresIn: 600 })
  const { socket } = await opened(a.url(), bearer(token))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  const arrived = new Promise<void>((resolve) => { a.stores.bus.subscribe(() => resolve()) })
  for (const noise of ['not json', 'null', '42', '{"kind":"token"}', '{"kind":"denied","tokenId":1}', '{"kind":"subject","subject":"alice","outcome":"x"}']) {
    await admin.publish('noise:revocations', noise)
  }
  await admin.publish('noise:revocations', JSON.stringify({ kind: 'subject', subject: 'nobody', outcome: 'revoked' }))
  await arrived
  t.equal(socket.readyState, socket.OPEN, 'nothing closed alice\'s socket')
  t.equal(a.stores.denyList.has('noise'), false)
  await stillServes(t, a)
  socket.terminate()
})
