import t from 'tap'
import { startRedis } from '../../../test/helpers/redis.ts'
import {
  denyListConformance, failureCounterConformance, refreshTokenStoreConformance, revocationBusConformance, singleUseStoreConformance,
} from '../../../test/helpers/index.ts'
import { adminClient, nodeStores } from './fixture.ts'

const server = await startRedis(t)
// Each test gets a prefix of its own, so tests on the one server never see each other's keys.
let tests = 0
const prefix = (): string => `test${++tests}:`

t.test('the RefreshTokenStore contract', async (t) => {
  refreshTokenStoreConformance(t, async (t) => (await nodeStores(t, server, { prefix: prefix() })).refreshTokens)
})
t.test('the SingleUseStore contract', async (t) => {
  singleUseStoreConformance(t, async (t) => (await nodeStores(t, server, { prefix: prefix() })).singleUse('codes'))
})
t.test('the FailureCounter contract', async (t) => {
  failureCounterConformance(t, async (t) => {
    const stores = await nodeStores(t, server, { prefix: prefix() })
    return (window) => stores.failureCounter('login', window)
  })
})
t.test('the DenyList contract', async (t) => {
  denyListConformance(t, async (t) => (await nodeStores(t, server, { prefix: prefix() })).denyList)
})
t.test('the RevocationBus contract: two nodes, each with its own connections', async (t) => {
  revocationBusConformance(t, (t) => {
    const shared = prefix()
    return async () => (await nodeStores(t, server, { prefix: shared })).bus
  })
})

t.test('every key has a TTL and the prefix', async (t) => {
  const prefixed = prefix()
  const stores = await nodeStores(t, server, { prefix: prefixed })
  const hour = Date.now() + 3_600_000
  await stores.denyList.add('jti', hour)
  await stores.denyList.add('forever', null)
  await stores.refreshTokens.create('fam', { subject: 's', scopes: [], clientId: null, tokenHash: 'h', expiresAt: hour, accessTokens: [] })
  await stores.failureCounter('login', { limit: 5, windowMs: 60_000 }).attempt('alice')
  await stores.singleUse('codes').put('code', 'v', hour)
  const admin = await adminClient(t, server)
  const keys = await admin.keys(`${prefixed}*`)
  t.equal(keys.length, 4)
  for (const key of keys) t.ok(await admin.pttl(key) > 0, `${key} expires`)
  t.ok(await admin.pttl(`${prefixed}denylist`) > 3_600_000, 'the denylist lives as long as its longest entry (a token without exp: maxRevocationAge)')
})

t.test('a revocation on a node whose clock runs ahead drops no entry still live on Redis\'s clock', async (t) => {
  const prefixed = prefix()
  const ahead = await nodeStores(t, server, { prefix: prefixed })
  const hour = Date.now() + 3_600_000
  await ahead.denyList.add('live', hour)
  // The node's clock, two hours ahead while it writes another entry.
  const now = Date.now
  t.teardown(() => { Date.now = now })
  const later = now() + 7_200_000
  Date.now = () => later
  await ahead.denyList.add('other', later + 3_600_000)
  Date.now = now
  const admin = await adminClient(t, server)
  t.equal(await admin.zscore(`${prefixed}denylist`, 'live'), String(hour), 'a node that asks Redis still finds it')
})

t.test('a denylist entry written on one node reaches the other node\'s mirror; has answers without a round trip', async (t) => {
  const shared = prefix()
  const a = await nodeStores(t, server, { prefix: shared })
  const b = await nodeStores(t, server, { prefix: shared })
  t.equal(b.denyList.has('jti'), false, 'synchronous: from the mirror')
  const mirrored = new Promise<void>((resolve) => { b.bus.subscribe(() => resolve()) })
  await a.denyList.add('jti', Date.now() + 60_000)
  // The entry and a revocation go out on one channel, in order: once the revocation is in, the entry is too.
  await a.bus.publish({ kind: 'token', tokenId: 'jti', outcome: 'revoked' })
  await mirrored
  t.equal(b.denyList.has('jti'), true)
})

t.test('a refresh rotation raced from two nodes: exactly one wins', async (t) => {
  const shared = prefix()
  const a = await nodeStores(t, server, { prefix: shared })
  const b = await nodeStores(t, server, { prefix: shared })
  const expiresAt = Date.now() + 60_000
  await a.refreshTokens.create('fam', { subject: 's', scopes: [], clientId: null, tokenHash: 'h0', expiresAt, accessTokens: [] })
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).refreshTokens.rotate('fam', 'h0', { tokenHash: `h${i + 1}`, expiresAt, accessTokens: [] })))
  t.equal(results.filter(Boolean).length, 1)
  const deleted = await Promise.all([a.refreshTokens.delete('fam'), b.refreshTokens.delete('fam')])
  t.equal(deleted.filter((family) => family !== null).length, 1, 'one of two deletes gets the family')
})

t.test('one key, 100 concurrent takes spread over two nodes\' connections: exactly one value', async (t) => {
  const shared = prefix()
  const a = await nodeStores(t, server, { prefix: shared })
  const b = await nodeStores(t, server, { prefix: shared })
  await a.singleUse<string>('tickets').put('ticket', 'alice', Date.now() + 60_000)
  const [onA, onB] = [a.singleUse<string>('tickets'), b.singleUse<string>('tickets')]
  const taken = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? onA : onB).take('ticket')))
  t.equal(taken.filter((value) => value === 'alice').length, 1)
  t.equal(taken.filter((value) => value === null).length, 99)
})

t.test('wsAuthRedis checks its options', async (t) => {
  const { wsAuthRedis } = await import('@wsauth/redis')
  t.throws(() => wsAuthRedis(server.url, { prefix: 1 as unknown as string }), /prefix must be a string/)
  t.throws(() => wsAuthRedis(server.url, { maxRevocationAge: 0 }), /maxRevocationAge/)
})
