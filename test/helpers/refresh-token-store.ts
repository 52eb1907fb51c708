// The contract of @wsauth/core's RefreshTokenStore, as tests any implementation runs: the memory store's here, the
// Redis store's with the same suite. Families live an hour from the real clock, far beyond any run, so a store whose
// clock cannot be injected (Redis expires keys by its own) passes too.
import type { Test } from 'tap'
import type { RefreshTokenFamily, RefreshTokenRotation, RefreshTokenStore } from '@wsauth/core'

/** Makes an empty store for one test; register its teardown on `t`. */
export type RefreshTokenStoreFactory = (t: Test) => RefreshTokenStore | Promise<RefreshTokenStore>

const HOUR = 60 * 60 * 1000

function family (overrides: Partial<RefreshTokenFamily> = {}): RefreshTokenFamily {
  const now = Date.now()
  return {
    subject: 'alice',
    scopes: ['chat:read', 'chat:write'],
    clientId: null,
    tokenHash: 'hash-0',
    expiresAt: now + HOUR,
    accessTokens: [{ tokenId: 'jti-0', expiresAt: now + HOUR / 4 }],
    ...overrides,
  }
}

function rotation (n: number): RefreshTokenRotation {
  const now = Date.now()
  return {
    tokenHash: `hash-${n}`,
    expiresAt: now + HOUR + n,
    accessTokens: [{ tokenId: 'jti-0', expiresAt: now + HOUR / 4 }, { tokenId: `jti-${n}`, expiresAt: now + HOUR / 4 + n }],
  }
}

/** Runs the contract's tests, each on a fresh store from `makeStore`. */
export function refreshTokenStoreConformance (t: Test, makeStore: RefreshTokenStoreFactory): void {
  t.test('create and find: the family as given, every field', async (t) => {
    const store = await makeStore(t)
    t.equal(await store.find('unknown'), null, 'an unknown family')
    const created = family({ clientId: 'web', scopes: [] })
    await store.create('f1', created)
    t.strictSame(await store.find('f1'), created, 'a client id and no scopes')
    const other = family({ tokenHash: 'other-hash', scopes: ['a', 'b', 'c'], accessTokens: [] })
    await store.create('f2', other)
    t.strictSame(await store.find('f2'), other, 'no access tokens, a null client id')
    t.strictSame(await store.find('f1'), created, 'families are kept apart')
  })

  t.test('what a caller holds is a copy', async (t) => {
    const store = await makeStore(t)
    const created = family()
    await store.create('f1', created)
    created.scopes.push('admin')
    created.accessTokens[0]!.tokenId = 'changed'
    const found = await store.find('f1')
    t.strictSame(found?.scopes, ['chat:read', 'chat:write'], 'changing what was created changes nothing')
    t.equal(found?.accessTokens[0]?.tokenId, 'jti-0')
    found!.scopes.push('admin')
    found!.accessTokens.push({ tokenId: 'sneaked-in', expiresAt: 1 })
    const next = rotation(1)
    t.equal(await store.rotate('f1', 'hash-0', next), true)
    next.accessTokens.length = 0
    const rotated = await store.find('f1')
    t.strictSame(rotated?.scopes, ['chat:read', 'chat:write'], 'changing what was found changes nothing')
    t.strictSame(rotated?.accessTokens.map(({ tokenId }) => tokenId), ['jti-0', 'jti-1'], 'nor what was rotated in')
  })

  t.test('rotate: a compare-and-swap of the current hash', async (t) => {
    const store = await makeStore(t)
    const created = family({ clientId: 'web' })
    await store.create('f1', created)
    t.equal(await store.rotate('f1', 'hash-1', rotation(2)), false, 'a hash that is not the current one')
    t.strictSame(await store.find('f1'), created, 'changes nothing')
    t.equal(await store.rotate('unknown', 'hash-0', rotation(1)), false, 'an unknown family')
    t.equal(await store.find('unknown'), null, 'is not created by a rotation')

    const next = rotation(1)
    t.equal(await store.rotate('f1', 'hash-0', next), true)
    t.strictSame(await store.find('f1'), { ...created, ...next }, 'hash, lifetime and access tokens replaced; subject, scopes and client kept')
    t.equal(await store.rotate('f1', 'hash-0', rotation(2)), false, 'a spent hash never rotates again')
    t.equal(await store.rotate('f1', 'hash-1', rotation(2)), true, 'the current one does')
    t.equal((await store.find('f1'))?.tokenHash, 'hash-2')
  })

  t.test('concurrent rotations from one hash: exactly one wins', async (t) => {
    const store = await makeStore(t)
    await store.create('f1', family())
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.rotate('f1', 'hash-0', rotation(i + 1))))
    t.equal(results.filter(Boolean).length, 1, 'one true')
    const winner = results.indexOf(true) + 1
    t.equal((await store.find('f1'))?.tokenHash, `hash-${winner}`, 'and the family holds the winner\'s hash')
    t.strictSame((await store.find('f1'))?.accessTokens.map(({ tokenId }) => tokenId), ['jti-0', `jti-${winner}`])
  })

  t.test('delete: resolves the family as it was, once', async (t) => {
    const store = await makeStore(t)
    await store.create('f1', family())
    await store.create('f2', family({ subject: 'bob' }))
    await store.rotate('f1', 'hash-0', rotation(1))
    const deleted = await store.delete('f1')
    t.equal(deleted?.tokenHash, 'hash-1')
    t.strictSame(deleted?.accessTokens.map(({ tokenId }) => tokenId), ['jti-0', 'jti-1'], 'with its access tokens, for revocation')
    t.equal(await store.find('f1'), null)
    t.equal(await store.delete('f1'), null, 'a deleted family is unknown')
    t.equal(await store.rotate('f1', 'hash-1', rotation(2)), false, 'and never rotates')
    t.equal(await store.delete('never-created'), null)
    t.equal((await store.find('f2'))?.subject, 'bob', 'other families are untouched')
  })

  t.test('concurrent deletes: exactly one gets the family', async (t) => {
    const store = await makeStore(t)
    await store.create('f1', family())
    const results = await Promise.all(Array.from({ length: 20 }, () => store.delete('f1')))
    t.equal(results.filter((result) => result !== null).length, 1)
  })

  t.test('a rotation racing a delete is either in what delete returns, or fails', async (t) => {
    const store = await makeStore(t)
    for (let round = 0; round < 20; round++) {
      const id = `f${round}`
      await store.create(id, family())
      // Both orders, as the store interleaves them.
      const [rotated, deleted] = round % 2 === 0
        ? await Promise.all([store.rotate(id, 'hash-0', rotation(1)), store.delete(id)])
        : (await Promise.all([store.delete(id), store.rotate(id, 'hash-0', rotation(1))])).reverse() as [boolean, RefreshTokenFamily | null]
      t.not(deleted, null, `round ${round}: the family was deleted`)
      const lost = rotated && !deleted!.accessTokens.some(({ tokenId }) => tokenId === 'jti-1')
      t.notOk(lost, `round ${round}: no access token is issued outside the family`)
      t.equal(await store.find(id), null)
    }
  })
}
