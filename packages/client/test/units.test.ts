// The client's pure pieces: close-code policy, refusals, hints, JWT expiry, renewal timing, route matching, the
// transport order in every environment.
import t from 'tap'
import type { DiscoveryRoute } from '@wsauth/core'
import { closeAction, closeCodeOfRefusal, retryAfterHeaderMs, retryAfterReasonMs } from '../src/close-codes.ts'
import { findRoute, readDiscovery } from '../src/discovery.ts'
import { jwtExpiry, renewDelay } from '../src/expiry.ts'
import { inBandCredential, readInBand } from '../src/in-band.ts'
import { RetryPolicy } from '../src/retry.ts'
import { SendQueue } from '../src/send-queue.ts'
import { chooseTransport, subprotocolFormat } from '../src/transports.ts'
import { fixtureDiscovery, SECRET } from './fixture.ts'
import { createSigner } from 'fast-jwt'
import { DEFAULT_MESSAGE_NAMES } from '@wsauth/first-message'

t.test('closeAction', async (t) => {
  t.equal(closeAction(4401), 'unauthorized')
  t.equal(closeAction(4400), 'stop')
  t.equal(closeAction(4403), 'stop')
  t.equal(closeAction(4429), 'rate-limited')
  for (const code of [4408, 1001, 1005, 1006, 1011, 1012, 1013]) t.equal(closeAction(code), 'backoff', String(code))
  for (const code of [1000, 1002, 1003, 1008, 1009, 4000, 4404, 4500, 3000]) t.equal(closeAction(code), 'end', String(code))
})

t.test('closeCodeOfRefusal', async (t) => {
  t.equal(closeCodeOfRefusal(401, false), 4401)
  t.equal(closeCodeOfRefusal(400, false), 4400)
  t.equal(closeCodeOfRefusal(403, false), 4403)
  t.equal(closeCodeOfRefusal(403, true), 4401, "JEP 121's 403 for an invalid token: a fresh token fixes it")
  t.equal(closeCodeOfRefusal(429, false), 4429)
  t.equal(closeCodeOfRefusal(404, false), 4404, 'ends the client')
  t.equal(closeCodeOfRefusal(503, false), 1013)
  t.equal(closeCodeOfRefusal(500, false), 1011)
  t.equal(closeCodeOfRefusal(302, false), 1011)
  t.equal(closeCodeOfRefusal(0, false), 1006)
})

t.test('retry hints', async (t) => {
  t.equal(retryAfterHeaderMs('30'), 30_000)
  t.equal(retryAfterHeaderMs('1.5'), 1500)
  for (const value of [null, undefined, '', '0', '-3', 'Wed, 21 Oct 2015 07:28:00 GMT', 'soon']) t.equal(retryAfterHeaderMs(value), 0, String(value))
  t.equal(retryAfterReasonMs('too many requests; retry-after=30'), 30_000)
  t.equal(retryAfterReasonMs('too many requests'), 0)
  t.equal(retryAfterReasonMs('too many requests; retry-after=30x'), 0)
})

t.test('jwtExpiry reads exp without verifying', async (t) => {
  const sign = createSigner({ key: SECRET })
  t.equal(jwtExpiry(sign({ sub: 'a', exp: 2_000_000_000 })), 2_000_000_000_000)
  t.equal(jwtExpiry(sign({ sub: 'a' })), null, 'no exp')
  t.equal(jwtExpiry(sign({ sub: 'ü✓', exp: 5 })), 5000, 'non-ASCII claims')
  t.equal(jwtExpiry('opaque-token'), null)
  t.equal(jwtExpiry('a.!!!.c'), null, 'not base64url')
  t.equal(jwtExpiry(`a.${Buffer.from('{"exp":"1"}').toString('base64url')}.c`), null, 'exp not a number')
})

t.test('renewDelay: the margin before exp, but at least half the remaining life', async (t) => {
  t.equal(renewDelay(100_000, 0, 30_000), 70_000)
  t.equal(renewDelay(40_000, 0, 30_000), 20_000, 'half')
  t.equal(renewDelay(3_000, 0, 30_000), 1_500, 'a 3 s token: 1.5 s, not at once')
  t.equal(renewDelay(1_000, 5_000, 30_000), 0, 'already expired: now')
})

t.test('readDiscovery and findRoute', async (t) => {
  const document = readDiscovery(fixtureDiscovery(), 'here')
  t.equal(findRoute(document, '/ws')?.path, '/ws')
  t.equal(findRoute(document, '/rooms/red')?.path, '/rooms/:room')
  t.equal(findRoute(document, '/rooms/'), undefined, 'an empty segment is no parameter')
  t.equal(findRoute(document, '/rooms/red/more'), undefined)
  t.equal(findRoute(document, '/nowhere'), undefined)
  const wild = readDiscovery({ ...fixtureDiscovery(), routes: [{ ...fixtureDiscovery().routes[0]!, path: '/files/*' }] }, 'here')
  t.equal(findRoute(wild, '/files/a/b')?.path, '/files/*')
  const both = readDiscovery({ ...fixtureDiscovery(), routes: [{ ...fixtureDiscovery().routes[4]!, path: '/rooms/:room' }, { ...fixtureDiscovery().routes[0]!, path: '/rooms/lobby' }] }, 'here')
  t.equal(findRoute(both, '/rooms/lobby')?.path, '/rooms/lobby', 'an exact match first')
  t.throws(() => readDiscovery(null, 'there'), { code: 'discovery', message: 'there: not a wsauth discovery document of version 1' })
  t.throws(() => readDiscovery([], 'there'), { code: 'discovery' })
})

t.test('transport order', async (t) => {
  const document = fixtureDiscovery()
  const all: DiscoveryRoute = {
    path: '/all',
    mode: 'close',
    protocols: ['echo.v1'],
    firstMessage: true,
    refresh: true,
    transports: {
      bearer: {},
      query: { param: 'token' },
      subprotocol: { formats: ['jupyter', 'kubernetes', 'wsauth'] },
      cookie: { endpoint: '/ws-auth' },
      ticket: { endpoint: '/ws-ticket', param: 'ticket', subprotocolPrefix: 'wsauth.ticket.' },
    },
  }
  const without = (...names: string[]): DiscoveryRoute => ({
    ...all,
    firstMessage: !names.includes('first-message'),
    transports: Object.fromEntries(Object.entries(all.transports).filter(([name]) => !names.includes(name))),
  })
  const page = { headers: false, page: true }
  const node = { headers: true, page: false }
  const protocols = ['echo.v1']
  t.equal(chooseTransport(document, all, protocols, node, undefined), 'bearer', 'Node: the header')
  t.equal(chooseTransport(document, all, protocols, page, undefined), 'ticket', 'a page: ticket first')
  t.equal(chooseTransport(document, without('ticket'), protocols, page, undefined), 'subprotocol')
  t.equal(chooseTransport(document, without('ticket', 'subprotocol'), protocols, page, undefined), 'first-message')
  t.equal(chooseTransport(document, without('ticket', 'subprotocol', 'first-message'), protocols, page, undefined), 'cookie')
  t.throws(() => chooseTransport(document, without('ticket', 'subprotocol', 'first-message', 'cookie'), protocols, page, undefined),
    { code: 'unsupported' }, 'the query is never chosen by itself')
  t.equal(chooseTransport(document, all, protocols, page, 'query'), 'query', 'only by name')
  t.throws(() => chooseTransport(document, without('query'), protocols, page, 'query'), { code: 'unsupported' })
  t.throws(() => chooseTransport(document, all, protocols, { headers: false, page: false }, 'cookie'), { code: 'unsupported' }, 'no page, no cookie')
  t.throws(() => chooseTransport({ ...document, inBand: undefined }, without('ticket', 'subprotocol', 'cookie'), protocols, page, 'first-message'),
    { code: 'unsupported' }, 'first message needs @wsauth/first-message')
})

t.test('subprotocolFormat', async (t) => {
  const route = (formats: string[]): DiscoveryRoute => ({ ...fixtureDiscovery().routes[0]!, transports: { subprotocol: { formats } } })
  t.equal(subprotocolFormat(route(['jupyter', 'kubernetes', 'wsauth']), ['echo.v1']), 'wsauth')
  t.equal(subprotocolFormat(route(['jupyter', 'kubernetes']), ['echo.v1']), 'jupyter')
  t.equal(subprotocolFormat(route(['kubernetes']), ['echo.v1']), 'kubernetes')
  t.equal(subprotocolFormat(route(['jupyter', 'kubernetes', 'wsauth']), []), 'jupyter', 'no protocol of its own: the JEP 121 marker')
  t.equal(subprotocolFormat(route(['kubernetes', 'wsauth']), []), null)
  t.equal(subprotocolFormat(route(['something-new']), ['echo.v1']), null, 'unknown formats are ignored')
  t.equal(subprotocolFormat({ ...route([]), transports: {} }, ['echo.v1']), null)
})

t.test('RetryPolicy: one immediate retry on 4401, then jittered backoff; stop, end, gave-up; reset', async (t) => {
  const policy = new RetryPolicy({ baseMs: 100, capMs: 1000, attempts: 3 }, () => 0.5)
  t.strictSame(policy.decide(4401, 0), { action: 'now' })
  t.strictSame(policy.decide(4401, 0), { action: 'wait', delayMs: 50, reason: 'unauthorized' }, 'the second 4401 waits')
  t.strictSame(policy.decide(1006, 0), { action: 'wait', delayMs: 100, reason: 'reconnect' })
  t.strictSame(policy.decide(4429, 30_000), { action: 'wait', delayMs: 30_000, reason: 'reconnect' }, 'the hint wins')
  t.strictSame(policy.decide(1012, 0), { action: 'gave-up' }, 'the fourth in a row')
  policy.reset()
  t.strictSame(policy.decide(4401, 0), { action: 'now' }, 'after a stable period, immediate again')
  t.strictSame(policy.decide(4403, 0), { action: 'stop' })
  t.strictSame(policy.decide(4400, 0), { action: 'stop' })
  t.strictSame(policy.decide(1000, 0), { action: 'end' })
  t.equal(policy.stableMs, 10_000)
  const capped = new RetryPolicy({ baseMs: 100, capMs: 250 }, () => 1)
  t.strictSame([1, 2, 3, 4].map(() => (capped.decide(1006, 0) as { delayMs: number }).delayMs), [100, 200, 250, 250])
})

t.test('SendQueue: in order, bounded, cleared', async (t) => {
  const queue = new SendQueue(2)
  queue.push('a')
  queue.push('b')
  t.throws(() => queue.push('c'), { code: 'queue-full' })
  const sent: unknown[] = []
  queue.flush((data) => sent.push(data))
  t.strictSame(sent, ['a', 'b'])
  queue.flush((data) => sent.push(data))
  t.strictSame(sent, ['a', 'b'], 'flushed once')
  queue.push('c')
  queue.clear()
  queue.flush((data) => sent.push(data))
  t.strictSame(sent, ['a', 'b'], 'cleared')
})

t.test('in-band messages: the server\'s read, the app\'s left alone', async (t) => {
  const names = DEFAULT_MESSAGE_NAMES
  t.strictSame(readInBand('{"type":"auth.ok","expiresAt":5}', names), { type: 'ok', expiresAt: 5 })
  t.strictSame(readInBand('{"type":"auth.expiring"}', names), { type: 'expiring' })
  t.equal(readInBand('{"type":"chat","text":"auth.ok"}', names), null, 'an app message that mentions it')
  t.equal(readInBand('{"type":"auth.ok"', names), null, 'not JSON')
  t.equal(readInBand('auth.ok', names), null)
  t.equal(readInBand(new Uint8Array([123]), names), null, 'binary')
  t.equal(inBandCredential(names, 'refresh', 'T'), '{"type":"auth.refresh","token":"T"}')
  t.equal(inBandCredential(names, 'auth', 'T'), '{"type":"auth","token":"T"}')
})
