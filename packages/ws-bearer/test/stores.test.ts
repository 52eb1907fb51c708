// The guard's stores bundle: one per guard by default, shared when given; revocations travel on its bus, so two guards
// on one bus (two nodes, here in one process) close each other's sockets.
import t from 'tap'
import {
  MemoryDenyList, MemoryRevocationBus, memoryStores, type Revocation, type RevocationBus, type WsAuthStores,
} from '@wsauth/core'
import { bearer, build, logCollector, stillServes } from '../../../test/helpers/index.ts'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'

/** Two nodes' stores: one denylist and one bus between them, as Redis would give them. */
function sharedStores (): [WsAuthStores, WsAuthStores] {
  const denyList = new MemoryDenyList()
  const bus = new MemoryRevocationBus()
  return [{ ...memoryStores(), denyList, bus }, { ...memoryStores(), denyList, bus }]
}

t.test('by default each guard has memory stores of its own, exposed on the decorator', async (t) => {
  const fx = await build(t)
  t.ok(fx.app.wsAuth.stores.denyList instanceof MemoryDenyList)
  t.equal(fx.app.wsAuth.denyList, fx.app.wsAuth.stores.denyList)
  t.ok(fx.app.wsAuth.stores.bus instanceof MemoryRevocationBus)
})

t.test('`denyList` given beside `stores` replaces the bundle\'s', async (t) => {
  const denyList = new MemoryDenyList()
  const stores = memoryStores()
  const fx = await build(t, { guard: { stores, denyList } })
  t.equal(fx.app.wsAuth.stores.denyList, denyList)
  t.equal(fx.app.wsAuth.stores.refreshTokens, stores.refreshTokens)
})

t.test('revokeToken on node A closes the token\'s sockets on node B, and B refuses it after', async (t) => {
  const [storesA, storesB] = sharedStores()
  const a = await build(t, { guard: { stores: storesA } })
  const b = await build(t, { guard: { stores: storesB } })
  const token = b.sign({ sub: 'alice', jti: 'j1' }, { expiresIn: 600 })
  const { socket } = await opened(b.url(), bearer(token))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  const socketClosed = closed(socket)
  t.equal(await a.app.wsAuth.revokeToken('j1', Date.now() + 600_000), 0, 'none on A itself')
  t.strictSame(await socketClosed, { code: 4401, reason: 'token revoked' })
  t.equal((await refused(b.url(), bearer(token))).status, 401)
  await stillServes(t, b)
})

t.test('disconnect and disconnectToken reach the other node; the count is this node\'s', async (t) => {
  const [storesA, storesB] = sharedStores()
  const a = await build(t, { guard: { stores: storesA } })
  const b = await build(t, { guard: { stores: storesB } })
  // The close, in an object: an async function would wait for a promise it returns.
  const open = async (sub: string, jti: string): Promise<{ closes: Promise<{ code: number, reason: string }> }> => {
    const { socket } = await opened(b.url(), bearer(b.sign({ sub, jti }, { expiresIn: 600 })))
    await nextMessage(socket)
    return { closes: closed(socket) }
  }
  const [bob, carol] = [await open('bob', 'b1'), await open('carol', 'c1')]
  t.equal(a.app.wsAuth.disconnect('bob', 'withdrawn'), 0)
  t.strictSame(await bob.closes, { code: 4403, reason: 'access withdrawn' })
  t.equal(a.app.wsAuth.disconnectToken('c1'), 0)
  t.strictSame(await carol.closes, { code: 4401, reason: 'token revoked' })
  const dave = await open('dave', 'd1')
  t.equal(b.app.wsAuth.disconnect('dave'), 1, 'on the node that has it: counted')
  t.strictSame(await dave.closes, { code: 4401, reason: 'token revoked' })
})

t.test('a bus that fails: the revocation still holds through the denylist, and the failure is logged', async (t) => {
  const failing: RevocationBus = {
    publish: async (_revocation: Revocation) => { throw new Error('bus down') },
    subscribe: () => () => {},
  }
  const log = logCollector()
  const fx = await build(t, { guard: { stores: { ...memoryStores(), bus: failing } }, logger: { stream: log.stream } })
  const token = fx.sign({ sub: 'alice', jti: 'j2' }, { expiresIn: 600 })
  const { socket } = await opened(fx.url(), bearer(token))
  await nextMessage(socket)
  const socketClosed = closed(socket)
  t.equal(await fx.app.wsAuth.revokeToken('j2', Date.now() + 600_000), 1, 'this node\'s socket closed at once')
  t.strictSame(await socketClosed, { code: 4401, reason: 'token revoked' })
  t.equal((await refused(fx.url(), bearer(token))).status, 401)
  t.equal(fx.app.wsAuth.disconnect('nobody'), 0, 'disconnect does not throw either')
  await stillServes(t, fx)
  t.match(log.lines.join('\n'), /a revocation could not reach the other nodes/)
})
