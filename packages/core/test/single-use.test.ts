import t from 'tap'
import { MemorySingleUseStore } from '@wsauth/core'

t.test('a value is taken once, before it expires', async (t) => {
  const now = { ms: 1000 }
  const store = new MemorySingleUseStore<{ subject: string }>({ now: () => now.ms })
  await store.put('a', { subject: 'alice' }, 2000)
  await store.put('b', { subject: 'bob' }, 2000)
  t.same(await store.take('a'), { subject: 'alice' })
  t.equal(await store.take('a'), null, 'taken already')
  t.equal(await store.take('unknown'), null)
  now.ms = 2000
  t.equal(await store.take('b'), null, 'expired at expiresAt')
  t.equal(store.size, 0, 'gone either way')
})

t.test('of two takes at once, one wins', async (t) => {
  const store = new MemorySingleUseStore<string>()
  await store.put('code', 'value', Date.now() + 60_000)
  const results = await Promise.all([store.take('code'), store.take('code')])
  t.same(results.filter((result) => result !== null), ['value'])
})

t.test('expired values are swept as the store grows', async (t) => {
  const now = { ms: 0 }
  const store = new MemorySingleUseStore<number>({ now: () => now.ms })
  for (let i = 0; i < 1023; i++) await store.put(`old-${i}`, i, 10)
  now.ms = 10
  await store.put('fresh', 1, 100)
  t.equal(store.size, 1, 'the 1024th put swept the 1023 expired ones')
})
