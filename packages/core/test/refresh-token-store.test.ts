import t from 'tap'
import { MemoryRefreshTokenStore, type RefreshTokenFamily } from '@wsauth/core'
import { refreshTokenStoreConformance } from '../../../test/helpers/index.ts'

t.test('the RefreshTokenStore contract', async (t) => {
  refreshTokenStoreConformance(t, () => new MemoryRefreshTokenStore())
})

function family (expiresAt: number, tokenHash = 'h0'): RefreshTokenFamily {
  return { subject: 'alice', scopes: [], clientId: null, tokenHash, expiresAt, accessTokens: [] }
}

function clock (): { now: () => number, set: (ms: number) => void } {
  let current = 0
  return { now: () => current, set: (ms) => { current = ms } }
}

t.test('an expired family is unknown: find, rotate and delete', async (t) => {
  const time = clock()
  const store = new MemoryRefreshTokenStore({ now: time.now })
  await store.create('a', family(100))
  await store.create('b', family(100))
  await store.create('c', family(100))
  time.set(99)
  t.ok(await store.find('a'), 'alive until expiresAt')
  time.set(100)
  t.equal(await store.find('a'), null, 'gone at expiresAt')
  t.equal(await store.rotate('b', 'h0', { tokenHash: 'h1', expiresAt: 1000, accessTokens: [] }), false, 'an expired family never rotates')
  t.equal(await store.delete('c'), null)
  t.equal(store.size, 0, 'and each was dropped when asked for')
})

t.test('expired families are dropped from the front as the store is written, never by a scan of the live ones', async (t) => {
  const time = clock()
  const store = new MemoryRefreshTokenStore({ now: time.now })
  for (let i = 0; i < 10; i++) await store.create(`old${i}`, family(100 + i))
  await store.create('young', family(1000))
  time.set(105)
  await store.create('new', family(2000))
  t.equal(store.size, 6, 'the five expired by now went, in one write')

  // A rotation renews a family and moves it behind the others: the order stays the order of expiry.
  t.equal(await store.rotate('old9', 'h0', { tokenHash: 'h1', expiresAt: 3000, accessTokens: [] }), true)
  time.set(2500)
  await store.create('later', family(4000))
  t.same(await Promise.all(['old9', 'later'].map(async (id) => (await store.find(id))?.tokenHash)), ['h1', 'h0'])
  t.equal(store.size, 2, 'everything that expired before old9\'s renewal was dropped')
})

t.test('a family given a longer lifetime holds back those behind it, which are still refused', async (t) => {
  const time = clock()
  const store = new MemoryRefreshTokenStore({ now: time.now })
  await store.create('long', family(10_000))
  await store.create('short', family(100))
  time.set(200)
  await store.create('another', family(10_000))
  t.equal(store.size, 3, 'not dropped yet: a longer-lived family is in front')
  t.equal(await store.find('short'), null, 'but unknown')
  t.equal(store.size, 2)
  time.set(10_000)
  await store.create('last', family(20_000))
  t.equal(store.size, 1, 'dropped once the one in front expired')
})
