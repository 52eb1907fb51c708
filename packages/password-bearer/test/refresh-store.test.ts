import t from 'tap'
import { MemoryRefreshTokenStore, type RefreshTokenRecord, type RefreshTokenStore } from '@wsauth/password-bearer'

// The memory store sweeps expired tokens once it has grown by this many since the last sweep.
const SWEEP_EVERY = 1024

function record (familyId: string, expiresAt: number, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return { familyId, subject: 'alice', scopes: ['read'], clientId: null, expiresAt, usedAt: null, ...overrides }
}

t.test('find, markUsed and save', async (t) => {
  const store: RefreshTokenStore = new MemoryRefreshTokenStore()
  t.equal(await store.find('h1'), null)
  t.equal(await store.markUsed('h1', 1), null, 'an unknown token cannot be used')
  await store.save('h1', record('f1', 5000), { tokenId: 'j1', expiresAt: Date.now() + 60_000 })
  t.same(await store.find('h1'), record('f1', 5000))

  t.same(await store.markUsed('h1', 100), record('f1', 5000), 'the first use sees the token unused')
  t.same(await store.markUsed('h1', 200), record('f1', 5000, { usedAt: 100 }), 'a second use sees the first')
  t.equal((await store.find('h1'))?.usedAt, 100, 'the first use is kept')
})

t.test('records are copies', async (t) => {
  const store = new MemoryRefreshTokenStore()
  const saved = record('f1', 5000)
  await store.save('h1', saved, { tokenId: 'j1', expiresAt: Date.now() + 60_000 })
  saved.scopes.push('admin')
  const found = await store.find('h1')
  t.same(found?.scopes, ['read'], 'changing what was saved changes nothing')
  found!.scopes.push('admin')
  found!.usedAt = 1
  t.same(await store.find('h1'), record('f1', 5000), 'changing what was found changes nothing')
  const before = await store.markUsed('h1', 2)
  before!.scopes.push('admin')
  t.same((await store.find('h1'))?.scopes, ['read'])
})

t.test('concurrent markUsed: exactly one sees the token unused', async (t) => {
  const store = new MemoryRefreshTokenStore()
  await store.save('h1', record('f1', 5000), { tokenId: 'j1', expiresAt: Date.now() + 60_000 })
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.markUsed('h1', i + 1)))
  t.equal(results.filter((before) => before?.usedAt === null).length, 1)
})

t.test('deleteFamily deletes its tokens and returns its live access tokens', async (t) => {
  let now = 1000
  const store = new MemoryRefreshTokenStore({ now: () => now })
  await store.save('a1', record('fa', 10_000), { tokenId: 'ja1', expiresAt: 1500 })
  await store.save('b1', record('fb', 10_000), { tokenId: 'jb1', expiresAt: 9000 })
  now = 2000
  // Saving into a family drops its access tokens that have expired: they need no revocation.
  await store.save('a2', record('fa', 10_000), { tokenId: 'ja2', expiresAt: 9000 })
  await store.save('a3', record('fa', 10_000), { tokenId: 'ja3', expiresAt: 9500 })
  t.equal(store.size, 4)

  t.same(await store.deleteFamily('fa'), [{ tokenId: 'ja2', expiresAt: 9000 }, { tokenId: 'ja3', expiresAt: 9500 }])
  t.equal(await store.find('a1'), null)
  t.equal(await store.find('a2'), null)
  t.equal(await store.find('a3'), null)
  t.equal(store.size, 1)
  t.ok(await store.find('b1'), 'other families are untouched')
  t.same(await store.deleteFamily('fa'), [], 'a deleted family is unknown')
  t.same(await store.deleteFamily('nope'), [])
})

t.test('expired tokens are swept as the store grows', async (t) => {
  let now = 0
  const store = new MemoryRefreshTokenStore({ now: () => now })
  await store.save('old', record('f-old', 100), { tokenId: 'j-old', expiresAt: 100 })
  await store.save('keep', record('f-keep', 1_000_000), { tokenId: 'j-keep', expiresAt: 1_000_000 })
  now = 500
  t.ok(await store.find('old'), 'an expired record may still be found: callers check expiresAt')
  for (let i = 0; store.size < SWEEP_EVERY - 1; i++) {
    await store.save(`h${i}`, record(`f${i}`, 1_000_000), { tokenId: `j${i}`, expiresAt: 1_000_000 })
  }
  t.equal(store.size, SWEEP_EVERY - 1)
  await store.save('last', record('f-last', 1_000_000), { tokenId: 'j-last', expiresAt: 1_000_000 })
  t.equal(store.size, SWEEP_EVERY - 1, 'the expired token was swept')
  t.equal(await store.find('old'), null)
  t.same(await store.deleteFamily('f-old'), [], 'its family went with its last token')
  t.ok(await store.find('keep'))
})
