// The memo of verified signatures, which no handshake test can see: a repeated cookie is not verified twice, a bad
// one is never remembered, and the memo stays bounded.
import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { cookieExtractor, sessionCookieFor } from '../src/extractor.ts'

function harness (): { extract (cookie: string): unknown, unsigned: string[] } {
  const unsigned: string[] = []
  const extractor = cookieExtractor(sessionCookieFor('wsauth'), (value) => {
    unsigned.push(value)
    const [token, signature] = value.split('.')
    return signature === 'good' ? { valid: true, value: token! } : { valid: false, value: null }
  })
  const extract = (cookie: string): unknown =>
    extractor.extract({ headers: { cookie }, protocol: 'http' } as unknown as FastifyRequest)
  return { extract, unsigned }
}

t.test('a good signature is checked once', async (t) => {
  const { extract, unsigned } = harness()
  t.strictSame(extract('wsauth=alice.good'), { kind: 'token', transport: 'cookie', token: 'alice' })
  t.strictSame(extract('wsauth=alice.good'), { kind: 'token', transport: 'cookie', token: 'alice' })
  t.strictSame(unsigned, ['alice.good'])
})

t.test('a bad signature is checked every time', async (t) => {
  const { extract, unsigned } = harness()
  t.throws(() => extract('wsauth=alice.bad'), { message: 'invalid session cookie' })
  t.throws(() => extract('wsauth=alice.bad'), { message: 'invalid session cookie' })
  t.equal(unsigned.length, 2)
})

t.test('bounded: after 1024 other cookies, the first is checked again', async (t) => {
  const { extract, unsigned } = harness()
  for (let i = 0; i <= 1024; i++) extract(`wsauth=user${i}.good`)
  extract('wsauth=user1024.good')
  t.equal(unsigned.length, 1025, 'the newest is still remembered')
  extract('wsauth=user0.good')
  t.equal(unsigned.length, 1026, 'the oldest was dropped')
})
