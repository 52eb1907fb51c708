import t from 'tap'
import {
  DEFAULT_SCRYPT_PARAMS, MemoryUserStore, hashPassword, verifyPassword, type UserStore,
} from '@wsauth/password-bearer'
import { FAST_SCRYPT } from './fixture.js'

const ENCODED = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/

t.test('the defaults are memory-hard', async (t) => {
  t.same(DEFAULT_SCRYPT_PARAMS, { N: 16384, r: 8, p: 1 })
  t.ok(Object.isFrozen(DEFAULT_SCRYPT_PARAMS))
  const hash = await hashPassword('a password')
  const [, N, r, p, salt, key] = ENCODED.exec(hash) ?? []
  t.same([N, r, p], ['16384', '8', '1'], 'the default parameters are written into the hash')
  t.equal(Buffer.from(salt!, 'base64url').length, 16, '16-byte salt')
  t.equal(Buffer.from(key!, 'base64url').length, 32, '32-byte key')
  t.equal(await verifyPassword('a password', hash), true)
})

t.test('hashPassword and verifyPassword', async (t) => {
  const hash = await hashPassword('correct horse', FAST_SCRYPT)
  t.match(hash, ENCODED)
  t.match(hash, /^scrypt\$1024\$8\$1\$/, 'the parameters used are written into the hash')
  t.equal(await verifyPassword('correct horse', hash), true)
  t.equal(await verifyPassword('correct horsE', hash), false)
  t.equal(await verifyPassword('', hash), false)
  t.equal(await verifyPassword('correct horse ', hash), false)
  t.not(await hashPassword('correct horse', FAST_SCRYPT), hash, 'a fresh salt each time')
})

t.test('a password is compared in Unicode normal form C', async (t) => {
  const composed = 'caf\u00e9'
  const decomposed = 'cafe\u0301'
  const hash = await hashPassword(composed, FAST_SCRYPT)
  t.equal(await verifyPassword(decomposed, hash), true)
  t.equal(await verifyPassword('cafe', hash), false)
})

t.test('verifyPassword reads the parameters from the hash', async (t) => {
  const small = await hashPassword('pw', { N: 2, r: 1, p: 1 })
  const large = await hashPassword('pw', { N: 4096, r: 8, p: 2 })
  t.equal(await verifyPassword('pw', small), true)
  t.equal(await verifyPassword('pw', large), true)
  t.equal(await verifyPassword('other', large), false)
})

t.test('bad parameters and malformed hashes throw', async (t) => {
  for (const params of [
    { N: 1000, r: 8, p: 1 }, { N: 1, r: 8, p: 1 }, { N: 2 ** 21, r: 8, p: 1 }, { N: 1024, r: 0, p: 1 },
    { N: 1024, r: 33, p: 1 }, { N: 1024, r: 8, p: 0 }, { N: 1024, r: 8, p: 17 }, { N: 1024, r: 1.5, p: 1 },
  ]) {
    await t.rejects(hashPassword('pw', params), TypeError, JSON.stringify(params))
  }
  await t.rejects(hashPassword(42 as unknown as string, FAST_SCRYPT), TypeError)
  const good = await hashPassword('pw', FAST_SCRYPT)
  await t.rejects(verifyPassword(42 as unknown as string, good), TypeError)
  const salt = Buffer.alloc(16).toString('base64url')
  const key = Buffer.alloc(32).toString('base64url')
  for (const encoded of [
    '', 'plain text', good.replace('scrypt', 'bcrypt'), good.replace('$1024$', '$1000$'), good.replace('$1024$', '$01024$'),
    good.replace('$8$', '$x$'), `${good}$extra`, `scrypt$1024$8$1$${salt}`, `scrypt$1024$8$1$${salt}$${key}=`,
    `scrypt$1024$8$1$AAAA$${key}`, `scrypt$1024$8$1$${salt}$AAAA`, `scrypt$${2 ** 22}$8$1$${salt}$${key}`,
    null as unknown as string,
  ]) {
    await t.rejects(verifyPassword('pw', encoded), { name: 'TypeError' }, JSON.stringify(encoded))
  }
})

t.test('MemoryUserStore', async (t) => {
  const users = new MemoryUserStore({ scrypt: FAST_SCRYPT })
  const store: UserStore = users
  t.equal(await store.findByUsername('alice'), null)
  await users.add('alice', 'pw1', { scopes: ['read', 'write', 'read'] })
  await users.add('bob', 'pw2')
  const alice = await store.findByUsername('alice')
  t.match(alice, { username: 'alice', scopes: ['read', 'write'], disabled: false }, 'scopes are kept once each')
  t.match(alice?.passwordHash, /^scrypt\$1024\$8\$1\$/, 'hashed with the store\'s parameters')
  t.equal(await verifyPassword('pw1', alice!.passwordHash), true)
  t.same((await store.findByUsername('bob'))?.scopes, [], 'no scopes by default')
  t.equal(await store.findByUsername('Alice'), null, 'usernames are exact')
  t.equal(await store.findByUsername('__proto__'), null)

  alice!.scopes!.push('admin')
  t.same((await store.findByUsername('alice'))?.scopes, ['read', 'write'], 'a returned record is a copy')

  await users.add('alice', 'pw3', { disabled: true })
  const replaced = await store.findByUsername('alice')
  t.equal(replaced?.disabled, true, 'add replaces a user')
  t.equal(await verifyPassword('pw3', replaced!.passwordHash), true)

  await t.rejects(users.add('', 'pw'), TypeError)
  await t.rejects(users.add(7 as unknown as string, 'pw'), TypeError)
  await t.rejects(users.add('carol', 'pw', { scopes: ['has space'] }), TypeError)
  await t.rejects(users.add('carol', 'pw', { scopes: ['quote"'] }), TypeError)
  await t.rejects(users.add('carol', 'pw', { scopes: [''] }), TypeError)
  await t.rejects(users.add('carol', 'pw', { scopes: 'read' as unknown as string[] }), TypeError)
  t.equal(await store.findByUsername('carol'), null, 'a rejected user is not added')
})

t.test('MemoryUserStore hashes with the defaults unless told otherwise', async (t) => {
  const users = new MemoryUserStore()
  await users.add('dave', 'pw')
  t.match((await users.findByUsername('dave'))?.passwordHash, /^scrypt\$16384\$8\$1\$/)
})
