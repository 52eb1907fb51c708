import t from 'tap'
import { MemoryDenyList, MemoryFailureCounter, MemoryRevocationBus, MemorySingleUseStore, memoryStores, parseRevocation } from '@wsauth/core'
import { denyListConformance, failureCounterConformance, revocationBusConformance, singleUseStoreConformance } from '../../../test/helpers/index.ts'

t.test('the SingleUseStore contract', async (t) => { singleUseStoreConformance(t, () => new MemorySingleUseStore()) })
t.test('the FailureCounter contract', async (t) => { failureCounterConformance(t, () => (window) => new MemoryFailureCounter(window)) })
t.test('the DenyList contract', async (t) => { denyListConformance(t, () => new MemoryDenyList()) })
t.test('the RevocationBus contract: one process, one bus', async (t) => {
  revocationBusConformance(t, () => {
    const bus = new MemoryRevocationBus()
    return () => bus
  })
})

t.test('memoryStores: a bundle of memory stores; two namespaces never share a key', async (t) => {
  const stores = memoryStores()
  t.ok(stores.denyList instanceof MemoryDenyList)
  const codes = stores.singleUse<string>('codes')
  await codes.put('k', 'v', Date.now() + 60_000)
  t.equal(await stores.singleUse<string>('other').take('k'), null)
  t.equal(await codes.take('k'), 'v')
})

t.test('parseRevocation: a revocation, or null for anything else', async (t) => {
  t.strictSame(parseRevocation({ kind: 'token', tokenId: 'j', outcome: 'revoked' }), { kind: 'token', tokenId: 'j', outcome: 'revoked' })
  t.strictSame(parseRevocation({ kind: 'subject', subject: 's', outcome: 'withdrawn', extra: 1 }), { kind: 'subject', subject: 's', outcome: 'withdrawn' })
  for (const bad of [null, 'x', {}, { kind: 'token', tokenId: 1, outcome: 'revoked' }, { kind: 'subject', subject: 's', outcome: 'other' }, { kind: 'denied', tokenId: 'j', outcome: 'revoked' }]) {
    t.equal(parseRevocation(bad), null, JSON.stringify(bad))
  }
})
