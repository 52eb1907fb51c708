import t from 'tap'
import { MemoryDenyList, MemoryFailureCounter, type DenyList, type FailureCounter } from '@wsauth/core'

// The in-memory stores sweep expired entries once they have grown by this many since the last sweep.
const SWEEP_EVERY = 1024

function clock (start = 1_000_000): { now: () => number, set: (value: number) => void } {
  let current = start
  return { now: () => current, set: (value) => { current = value } }
}

t.test('MemoryDenyList: add and has', async (t) => {
  const list: DenyList = new MemoryDenyList()
  t.equal(await list.has('a'), false, 'unknown id')
  t.equal(await list.add('a', Date.now() + 60_000), undefined)
  t.equal(await list.has('a'), true)
  t.equal(await list.has('b'), false, 'other ids are not denied')
  t.equal(await list.has('A'), false, 'ids are case-sensitive')
  await list.add('never', null)
  t.equal(await list.has('never'), true)
})

t.test('MemoryDenyList: expiry with an injected clock', async (t) => {
  const c = clock(1000)
  const list = new MemoryDenyList({ now: c.now })
  await list.add('jti-1', 2000)
  await list.add('jti-forever', null)
  t.equal(list.size, 2)

  c.set(1999)
  t.equal(await list.has('jti-1'), true, 'before expiry')
  t.equal(list.size, 2)

  c.set(2000)
  t.equal(await list.has('jti-1'), false, 'at expiry the token is dead anyway')
  t.equal(list.size, 1, 'the expired entry is removed on lookup')
  t.equal(await list.has('jti-forever'), true, 'null expiry is kept')

  c.set(Number.MAX_SAFE_INTEGER)
  t.equal(await list.has('jti-forever'), true, 'null expiry is kept forever')
  t.equal(list.size, 1)
})

t.test('MemoryDenyList: adding again replaces the expiry', async (t) => {
  const c = clock(0)
  const list = new MemoryDenyList({ now: c.now })
  await list.add('a', 100)
  await list.add('a', 500)
  t.equal(list.size, 1)
  c.set(200)
  t.equal(await list.has('a'), true)
  await list.add('a', null)
  c.set(10_000)
  t.equal(await list.has('a'), true)
})

t.test('MemoryDenyList: an entry already expired when added is not denied', async (t) => {
  const c = clock(1000)
  const list = new MemoryDenyList({ now: c.now })
  await list.add('old', 500)
  t.equal(await list.has('old'), false)
  t.equal(list.size, 0)
})

t.test('MemoryDenyList: sweeps expired entries every 1024 adds', async (t) => {
  const c = clock(0)
  const list = new MemoryDenyList({ now: c.now })
  await list.add('forever', null)
  await list.add('later', 1_000_000)
  for (let i = 0; i < SWEEP_EVERY - 3; i++) await list.add(`short-${i}`, 100)
  t.equal(list.size, SWEEP_EVERY - 1, 'no sweep yet')

  c.set(100)
  t.equal(list.size, SWEEP_EVERY - 1, 'expiry alone removes nothing')
  await list.add('trigger', 200)
  t.equal(list.size, 3, 'the 1024th add sweeps: only unexpired and null-expiry entries are left')
  t.equal(await list.has('forever'), true)
  t.equal(await list.has('later'), true)
  t.equal(await list.has('trigger'), true)
  t.equal(await list.has('short-0'), false)

  // The next sweep comes after another 1024 new entries.
  for (let i = 0; i < SWEEP_EVERY - 1; i++) await list.add(`second-${i}`, 300)
  c.set(300)
  t.equal(list.size, 3 + SWEEP_EVERY - 1, 'no sweep before 1024 more')
  await list.add('trigger-2', null)
  t.equal(list.size, 3, 'swept again: trigger (200) and all second-* (300) expired')
  t.equal(await list.has('forever'), true)
  t.equal(await list.has('later'), true)
  t.equal(await list.has('trigger-2'), true)
  t.equal(await list.has('trigger'), false)
})

t.test('MemoryDenyList: re-adding known ids does not trigger a sweep', async (t) => {
  const c = clock(0)
  const list = new MemoryDenyList({ now: c.now })
  await list.add('expired', 10)
  c.set(20)
  for (let i = 0; i < SWEEP_EVERY * 2; i++) await list.add('same', null)
  t.equal(list.size, 2, 'the map did not grow, so nothing was swept')
})

t.test('MemoryFailureCounter: constructor validation', async (t) => {
  const message = 'limit must be >= 1 and windowMs a finite number > 0'
  const invalid = [
    { limit: 0, windowMs: 1000 },
    { limit: -1, windowMs: 1000 },
    { limit: 0.5, windowMs: 1000 },
    { limit: Number.NaN, windowMs: 1000 },
    { limit: 1, windowMs: 0 },
    { limit: 1, windowMs: -1 },
    { limit: 1, windowMs: Number.NaN },
    { limit: 1, windowMs: Number.POSITIVE_INFINITY },
  ]
  for (const options of invalid) {
    t.throws(() => new MemoryFailureCounter(options), { name: 'TypeError', message }, JSON.stringify(options))
  }
  t.throws(() => new MemoryFailureCounter({} as never), { name: 'TypeError', message }, 'missing options')
  t.doesNotThrow(() => new MemoryFailureCounter({ limit: 1, windowMs: 1 }))
  t.doesNotThrow(() => new MemoryFailureCounter({ limit: 5, windowMs: 0.5 }))
})

t.test('MemoryFailureCounter: blocks at the limit for the rest of the window', async (t) => {
  const c = clock(0)
  const counter: FailureCounter = new MemoryFailureCounter({ limit: 3, windowMs: 10_000, now: c.now })
  t.equal(await counter.blockedFor('ip'), 0, 'unknown key')
  t.equal(await counter.fail('ip'), undefined)
  t.equal(await counter.blockedFor('ip'), 0, '1 failure: below the limit')
  await counter.fail('ip')
  t.equal(await counter.blockedFor('ip'), 0, '2 failures: below the limit')
  await counter.fail('ip')
  t.equal(await counter.blockedFor('ip'), 10, 'at the limit: the whole window')
  t.equal(await counter.blockedFor('other'), 0, 'keys are independent')

  c.set(1)
  t.equal(await counter.blockedFor('ip'), 10, '9.999 s rounds up to 10')
  c.set(1000)
  t.equal(await counter.blockedFor('ip'), 9, 'exactly 9 s')
  c.set(8999)
  t.equal(await counter.blockedFor('ip'), 2, '1.001 s rounds up to 2')
  c.set(9999)
  t.equal(await counter.blockedFor('ip'), 1, '1 ms left is 1 s')
  await counter.fail('ip')
  t.equal(await counter.blockedFor('ip'), 1, 'failing past the limit does not extend a fixed window')

  c.set(10_000)
  t.equal(await counter.blockedFor('ip'), 0, 'the window has ended')
  await counter.fail('ip')
  t.equal(await counter.blockedFor('ip'), 0, 'a new window starts at 1 failure')
  await counter.fail('ip')
  await counter.fail('ip')
  t.equal(await counter.blockedFor('ip'), 10, 'the new window is a full window')
})

t.test('MemoryFailureCounter: the window is fixed from the first failure', async (t) => {
  const c = clock(0)
  const counter = new MemoryFailureCounter({ limit: 3, windowMs: 10_000, now: c.now })
  await counter.fail('k')
  c.set(5000)
  await counter.fail('k')
  c.set(9000)
  await counter.fail('k')
  t.equal(await counter.blockedFor('k'), 1, 'blocked until 10 s after the first failure')
  c.set(10_000)
  t.equal(await counter.blockedFor('k'), 0)
})

t.test('MemoryFailureCounter: failures spread over two windows do not add up', async (t) => {
  const c = clock(0)
  const counter = new MemoryFailureCounter({ limit: 2, windowMs: 1000, now: c.now })
  await counter.fail('k')
  c.set(1000)
  await counter.fail('k')
  t.equal(await counter.blockedFor('k'), 0)
  await counter.fail('k')
  t.equal(await counter.blockedFor('k'), 1)
})

t.test('MemoryFailureCounter: limit 1 blocks on the first failure', async (t) => {
  const c = clock(0)
  const counter = new MemoryFailureCounter({ limit: 1, windowMs: 60_000, now: c.now })
  await counter.fail('k')
  t.equal(await counter.blockedFor('k'), 60)
})

t.test('MemoryFailureCounter: reset', async (t) => {
  const c = clock(0)
  const counter = new MemoryFailureCounter({ limit: 2, windowMs: 10_000, now: c.now })
  await counter.fail('k')
  await counter.fail('k')
  await counter.fail('other')
  await counter.fail('other')
  t.equal(await counter.blockedFor('k'), 10)
  t.equal(counter.size, 2)
  t.equal(await counter.reset('k'), undefined)
  t.equal(await counter.blockedFor('k'), 0, 'unblocked')
  t.equal(counter.size, 1, 'the key is gone')
  t.equal(await counter.blockedFor('other'), 10, 'other keys are kept')
  await counter.fail('k')
  t.equal(await counter.blockedFor('k'), 0, 'counting starts again from zero')
  await counter.reset('unknown')
  t.equal(counter.size, 2, 'resetting an unknown key is a no-op')
})

t.test('MemoryFailureCounter: defaults to Date.now', async (t) => {
  // Date.now is swapped for a clock the test moves, only while the counter takes its default.
  const realNow = Date.now
  let now = 1_000_000
  Date.now = () => now
  let counter: MemoryFailureCounter
  try {
    counter = new MemoryFailureCounter({ limit: 1, windowMs: 30_000 })
  } finally {
    Date.now = realNow
  }
  await counter.fail('k')
  t.equal(await counter.blockedFor('k'), 30, 'blocked for the window')
  now += 10_000
  t.equal(await counter.blockedFor('k'), 20, 'counted down by Date.now')
})

t.test('MemoryFailureCounter: sweeps expired windows every 1024 new keys', async (t) => {
  const c = clock(0)
  const counter = new MemoryFailureCounter({ limit: 1, windowMs: 100, now: c.now })
  c.set(50)
  await counter.fail('live')
  c.set(0)
  for (let i = 0; i < SWEEP_EVERY - 2; i++) await counter.fail(`short-${i}`)
  t.equal(counter.size, SWEEP_EVERY - 1, 'no sweep yet')

  c.set(100)
  t.equal(counter.size, SWEEP_EVERY - 1, 'expiry alone removes nothing')
  await counter.fail('trigger')
  t.equal(counter.size, 2, 'the 1024th new key sweeps: only live windows are left')
  t.equal(await counter.blockedFor('live'), 1, 'a live window survives the sweep')
  t.equal(await counter.blockedFor('trigger'), 1)
  t.equal(await counter.blockedFor('short-0'), 0)

  for (let i = 0; i < SWEEP_EVERY * 2; i++) await counter.fail('trigger')
  t.equal(counter.size, 2, 'more failures of a known key do not grow the map')
})

t.test('MemoryFailureCounter: an expired window is dropped on lookup', async (t) => {
  const c = clock(0)
  const counter = new MemoryFailureCounter({ limit: 5, windowMs: 100, now: c.now })
  await counter.fail('k')
  t.equal(counter.size, 1)
  c.set(100)
  t.equal(await counter.blockedFor('k'), 0)
  t.equal(counter.size, 0)
})

t.test('MemoryFailureCounter: attempt checks and counts in one step; forgive takes one back', async (t) => {
  const c = clock(0)
  const counter: FailureCounter = new MemoryFailureCounter({ limit: 3, windowMs: 10_000, now: c.now })
  // Ten attempts started together, as parallel logins would: only the limit's worth get through.
  const waits = await Promise.all(Array.from({ length: 10 }, () => counter.attempt('k')))
  t.strictSame(waits, [0, 0, 0, 10, 10, 10, 10, 10, 10, 10])
  t.equal(await counter.blockedFor('k'), 10, 'a blocked attempt is not counted past the limit')
  await counter.forgive('k')
  t.equal(await counter.blockedFor('k'), 0, 'one attempt forgiven: below the limit again')
  t.equal(await counter.attempt('k'), 0)
  t.equal(await counter.attempt('k'), 10)
  await counter.forgive('unknown')
  t.equal(await counter.blockedFor('unknown'), 0, 'forgiving an unknown key does nothing')
  const single = new MemoryFailureCounter({ limit: 1, windowMs: 1000, now: c.now })
  t.equal(await single.attempt('x'), 0)
  await single.forgive('x')
  await single.forgive('x')
  t.equal(await single.attempt('x'), 0, 'a count never goes below zero')
  t.equal(await single.attempt('x'), 1)
})
