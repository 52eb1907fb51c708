// The contracts of @wsauth/core's SingleUseStore, FailureCounter, DenyList and RevocationBus, as tests any
// implementation runs: the memory ones in packages/core, the Redis ones in packages/redis. Entries live minutes from
// the real clock, far beyond any run, so a store whose clock cannot be injected (Redis expires keys by its own) passes.
import type { Test } from 'tap'
import type { DenyList, FailureCounter, FailureWindow, Revocation, RevocationBus, SingleUseStore } from '@wsauth/core'

const MINUTE = 60 * 1000

/** Makes what one test needs; register its teardown on `t`. */
export type Factory<T> = (t: Test) => T | Promise<T>

export function singleUseStoreConformance (t: Test, makeStore: Factory<SingleUseStore<{ subject: string, scopes: string[] }>>): void {
  t.test('put then take: the value once, then null', async (t) => {
    const store = await makeStore(t)
    await store.put('k', { subject: 'alice', scopes: ['a'] }, Date.now() + MINUTE)
    t.strictSame(await store.take('k'), { subject: 'alice', scopes: ['a'] })
    t.equal(await store.take('k'), null, 'taken already')
    t.equal(await store.take('unknown'), null, 'an unknown key')
  })

  t.test('an expired value is never taken', async (t) => {
    const store = await makeStore(t)
    await store.put('old', { subject: 'alice', scopes: [] }, Date.now() - 1)
    t.equal(await store.take('old'), null)
  })

  t.test('100 concurrent takes of one key: exactly one gets it', async (t) => {
    const store = await makeStore(t)
    await store.put('race', { subject: 'alice', scopes: [] }, Date.now() + MINUTE)
    const taken = await Promise.all(Array.from({ length: 100 }, () => store.take('race')))
    t.equal(taken.filter((value) => value !== null).length, 1)
  })
}

export function failureCounterConformance (t: Test, makeCounter: Factory<(window: FailureWindow) => FailureCounter>): void {
  const window = { limit: 3, windowMs: 10 * MINUTE }

  t.test('attempt counts until the limit, then answers a wait and counts nothing', async (t) => {
    const counter = (await makeCounter(t))(window)
    t.strictSame([await counter.attempt('k'), await counter.attempt('k'), await counter.attempt('k')], [0, 0, 0])
    const wait = await counter.attempt('k')
    t.ok(wait > 0 && wait <= 600, `blocked for ${wait} s`)
    t.equal(await counter.blockedFor('k'), wait)
    t.equal(await counter.attempt('other'), 0, 'another key has its own count')
  })

  t.test('forgive takes one attempt back; reset clears the key', async (t) => {
    const counter = (await makeCounter(t))(window)
    for (let i = 0; i < 3; i++) await counter.attempt('k')
    await counter.forgive('k')
    t.equal(await counter.blockedFor('k'), 0, 'one under the limit again')
    t.equal(await counter.attempt('k'), 0)
    t.ok(await counter.blockedFor('k') > 0)
    await counter.reset('k')
    t.equal(await counter.blockedFor('k'), 0)
    await counter.forgive('never-counted')
    t.equal(await counter.attempt('never-counted'), 0, 'forgiving an empty key leaves nothing owed')
  })

  t.test('fail counts like a failed attempt', async (t) => {
    const counter = (await makeCounter(t))(window)
    for (let i = 0; i < 3; i++) await counter.fail('k')
    t.ok(await counter.blockedFor('k') > 0)
  })

  t.test('parallel attempts cannot all pass: exactly the limit do', async (t) => {
    const counter = (await makeCounter(t))(window)
    const waits = await Promise.all(Array.from({ length: 20 }, () => counter.attempt('k')))
    t.equal(waits.filter((wait) => wait === 0).length, 3)
  })
}

export function denyListConformance (t: Test, makeList: Factory<DenyList>): void {
  t.test('add then has; an unknown or expired id is not denied', async (t) => {
    const list = await makeList(t)
    t.equal(await list.has('jti-1'), false)
    await list.add('jti-1', Date.now() + MINUTE)
    await list.add('forever', null)
    await list.add('expired', Date.now() - 1)
    t.equal(await list.has('jti-1'), true)
    t.equal(await list.has('forever'), true)
    t.equal(await list.has('expired'), false)
  })
}

/** Each `makeBus` call is one node's bus on one shared medium. */
export function revocationBusConformance (t: Test, makeBus: Factory<() => RevocationBus | Promise<RevocationBus>>): void {
  t.test('a publish reaches every subscriber, in order; unsubscribe stops one', async (t) => {
    const nodes = await makeBus(t)
    const [a, b] = [await nodes(), await nodes()]
    const seen: Array<[string, Revocation]> = []
    const arrived = new Promise<void>((resolve) => {
      const stop = a.subscribe((revocation) => { seen.push(['a', revocation]) })
      b.subscribe((revocation) => {
        seen.push(['b', revocation])
        if (revocation.kind === 'passwords') {
          stop()
          resolve()
        }
      })
    })
    await a.publish({ kind: 'subject', subject: 'alice', outcome: 'withdrawn' })
    await a.publish({ kind: 'token', tokenId: 'jti-1', outcome: 'revoked' })
    await b.publish({ kind: 'passwords', subject: 'alice', outcome: 'revoked' })
    await arrived
    const onB = seen.filter(([node]) => node === 'b').map(([, revocation]) => revocation)
    t.strictSame(onB, [
      { kind: 'subject', subject: 'alice', outcome: 'withdrawn' },
      { kind: 'token', tokenId: 'jti-1', outcome: 'revoked' },
      { kind: 'passwords', subject: 'alice', outcome: 'revoked' },
    ])
  })
}
