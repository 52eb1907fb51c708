import * as crypto from 'node:crypto'
import t from 'tap'
import { MemoryFailureCounter } from '@wsauth/core'
import { ALICE, FAST_SCRYPT, postForm, startServer, stillServes, type Test } from './fixture.js'

// Timing is asserted by structure, not by the clock: every scrypt call the plugin makes is recorded.
interface ScryptCall {
  salt: string
  keylen: number
  options: crypto.ScryptOptions
}

async function spiedPlugin (t: Test): Promise<{ plugin: typeof import('@wsauth/password-bearer').default, calls: ScryptCall[] }> {
  const calls: ScryptCall[] = []
  const spy = (...args: Parameters<typeof crypto.scrypt>): void => {
    const [, salt, keylen, options] = args
    calls.push({ salt: Buffer.from(salt as Buffer).toString('base64url'), keylen, options: options as crypto.ScryptOptions })
    Reflect.apply(crypto.scrypt, undefined, args)
  }
  const mocked = await t.mockImport<typeof import('@wsauth/password-bearer')>('@wsauth/password-bearer', {
    'node:crypto': { ...crypto, scrypt: spy },
  })
  return { plugin: mocked.default, calls }
}

t.test('an unknown user is checked against the dummy hash, with the same parameters as a real one', async (t) => {
  const { plugin, calls } = await spiedPlugin(t)
  const server = await startServer(t, {}, { plugin })
  t.equal(calls.length, 1, 'one hash at startup: the dummy')
  const dummy = calls[0]!
  t.match(dummy.options, { N: FAST_SCRYPT.N, r: FAST_SCRYPT.r, p: FAST_SCRYPT.p }, 'with the configured parameters')

  calls.length = 0
  await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: 'wrong' })
  t.equal(calls.length, 1, 'a wrong password: one scrypt call')
  const wrongPassword = calls[0]!

  calls.length = 0
  await postForm(`${server.base}/token`, { grant_type: 'password', username: 'mallory', password: 'wrong' })
  t.equal(calls.length, 1, 'an unknown user: one scrypt call too')
  const unknownUser = calls[0]!
  t.equal(unknownUser.salt, dummy.salt, 'against the dummy hash')
  t.not(wrongPassword.salt, dummy.salt, 'a known user is checked against their own hash')
  t.same(unknownUser.options, wrongPassword.options, 'the same cost parameters')
  t.equal(unknownUser.keylen, wrongPassword.keylen, 'the same key length')
  t.equal(Buffer.from(unknownUser.salt, 'base64url').length, Buffer.from(wrongPassword.salt, 'base64url').length, 'the same salt length')

  calls.length = 0
  await postForm(`${server.base}/token`, { grant_type: 'password', username: 'mallory', password: 'again' })
  t.same(calls.map((call) => call.salt), [dummy.salt], 'the dummy is computed once, not per request')

  calls.length = 0
  await server.users.add('disabled', 'pw', { disabled: true })
  await postForm(`${server.base}/token`, { grant_type: 'password', username: 'disabled', password: 'pw' })
  t.equal(calls.length, 1, 'a disabled user is checked like any other')
  await stillServes(t, server)
})

t.test('the dummy hash has the default parameters by default', async (t) => {
  const { plugin, calls } = await spiedPlugin(t)
  await startServer(t, { scrypt: undefined }, { plugin })
  t.match(calls, [{ options: { N: 16384, r: 8, p: 1 }, keylen: 32 }])
})

t.test('a throttled login costs no hashing', async (t) => {
  const { plugin, calls } = await spiedPlugin(t)
  const server = await startServer(t, {
    throttle: { username: new MemoryFailureCounter({ limit: 2, windowMs: 60_000 }) },
  }, { plugin })
  for (let i = 0; i < 2; i++) await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: 'wrong' })
  calls.length = 0
  for (const password of ['wrong', ALICE.password]) {
    const result = await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password })
    t.equal(result.status, 429)
  }
  t.equal(calls.length, 0, 'checked before any scrypt work')
})
