// "The token never reaches a log line": Fastify's logger at info, debug and trace, captured, through good and bad
// handshakes over every transport. The guard alone covers the requests of its app's routes; Fastify's default 404
// route gets its logger from the constructor, before any plugin runs, so only `redactingLoggerOptions` there covers it
// (and every other line): the tests below check both. redaction-fuzz.test.ts throws 1,000 generated URLs at it.
import t from 'tap'
import { redactingLoggerOptions } from '@wsauth/core'
import { closed, connect, opened, rawHandshake, refused } from '../../../test/helpers/ws.ts'
import {
  OTHER_SECRET, basic, bearer, build, closedOnOpen, craftJwt, logCollector, nowSeconds, stillServes,
} from '../../../test/helpers/index.ts'

const LEVELS = ['info', 'debug', 'trace'] as const

for (const level of LEVELS) {
  t.test(`no token in any log line at ${level}`, async (t) => {
    const { stream, lines } = logCollector()
    const fx = await build(t, {
      logger: { level, stream },
      guard: { query: true, basic: true, origins: ['http://localhost:8000'] },
    })
    const secrets: string[] = []
    const secret = (value: string): string => { secrets.push(value); return value }
    const good = (sub: string): string => secret(fx.sign({ sub }, { expiresIn: 600 }))
    const now = nowSeconds()

    // Query: good, bad, forged, duplicated, encoded name, close mode.
    const viaQuery = await opened(fx.url(`/ws?token=${good('q-alice')}`))
    const done = closed(viaQuery.socket)
    viaQuery.socket.close()
    await done
    await refused(fx.url(`/ws?token=${secret('BAD-QUERY-TOKEN-value')}`))
    await refused(fx.url(`/ws?token=${secret(craftJwt({ alg: 'HS256' }, { sub: 'x', exp: now + 60 }, OTHER_SECRET))}`))
    await refused(fx.url(`/ws?token=${secret('DUPLICATE-ONE')}&token=${secret('DUPLICATE-TWO')}`))
    await refused(fx.url(`/ws?a=1&%74oken=${secret('ENCODED-NAME-TOKEN')}`))
    await refused(fx.url(`/ws?token=${secret(`${'LONG'.repeat(1200)}`)}`))
    await closedOnOpen(fx.url(`/close-mode?token=${secret('CLOSE-MODE-TOKEN')}`))
    // Bearer: good and bad.
    const viaBearer = await opened(fx.url('/ws'), bearer(good('b-alice')))
    viaBearer.socket.close()
    await refused(fx.url('/ws'), bearer(secret('BAD-BEARER-TOKEN')))
    // Basic: token:<jwt>, a wrong password, a malformed value.
    const viaBasic = await opened(fx.url('/ws'), basic(`token:${good('basic-alice')}`))
    viaBasic.socket.close()
    await refused(fx.url('/ws'), basic(`alice:${secret('BAD-BASIC-PASSWORD')}`))
    await refused(fx.url('/ws'), basic(`token:${secret('BAD-BASIC-TOKEN')}`))
    // A foreign origin and a good query token: refused before the token is even read, and still not logged.
    await refused(fx.url(`/ws?token=${good('origin-alice')}`), { origin: 'http://evil.test' })
    // A plain HTTP request to a guarded route.
    await fetch(`http://127.0.0.1:${fx.port}/ws?token=${secret('PLAIN-HTTP-TOKEN')}`)
    // Credentials the guard does not read, as issue 8 (defect 5) lists them, in exact bytes (a WebSocket client would re-encode them):
    // refused as no credential, and not logged either.
    for (const path of [
      `/ws?x="&token=${secret('BEHIND-A-QUOTE')}`,
      `/ws?access_token=${secret('RFC-6750-NAME')}`,
      `/ws?%2574oken=${secret('ENCODED-TWICE')}`,
      `/ws?Token=${secret('CAPITALISED-NAME')}`,
      `/ws#token=${secret('FRAGMENT-ONLY')}`,
    ]) {
      t.equal((await rawHandshake(fx.port, path, [])).status, 401, path.slice(0, 18))
    }
    await stillServes(t, fx)

    // Closing the app waits for every response, so every line is in.
    await fx.app.close()

    t.ok(lines.length > 10, `${lines.length} lines captured`)
    for (const url of ['/ws?[redacted]', '/close-mode?[redacted]', '/ws#[redacted]']) {
      t.ok(lines.some((line) => line.includes(`"url":"${url}"`)), `${url} is logged`)
    }
    t.ok(lines.some((line) => line.includes('websocket authentication rejected')), 'rejections are logged')
    for (const value of secrets) {
      const leaks = lines.filter((line) => line.includes(value))
      t.strictSame(leaks, [], `${value.slice(0, 24)}… is in no log line`)
    }
  })
}

for (const level of LEVELS) {
  t.test(`redactingLoggerOptions in Fastify's constructor: not even the default 404 logs the token, at ${level}`, async (t) => {
    const { stream, lines } = logCollector()
    const fx = await build(t, {
      logger: { level, stream, ...redactingLoggerOptions() },
      guard: { query: true },
    })
    const result = await connect(fx.url('/nope?token=DEFAULT-404-TOKEN'))
    t.equal(result.kind === 'refused' && result.status, 404)
    await fetch(`http://127.0.0.1:${fx.port}/nope?token=DEFAULT-404-TOKEN`)
    // `/ws;token=` too: without Fastify's `useSemicolonDelimiter` the `;` is part of the path, which no route has.
    for (const path of [
      '/nope?x="&token=QUOTED-404-TOKEN', '/nope?access_token=RFC-404-TOKEN', '/nope%3Ftoken=ENCODED-404-TOKEN', '/ws;token=SEMICOLON-404-TOKEN',
    ]) {
      t.equal((await rawHandshake(fx.port, path, [])).status, 404, path.slice(0, 18))
    }
    await refused(fx.url('/ws?token=GUARDED-ROUTE-TOKEN'))
    await stillServes(t, fx)
    await fx.app.close()
    t.ok(lines.some((line) => line.includes('"url":"/nope?[redacted]"')), 'the 404 request line is redacted')
    t.ok(lines.some((line) => line.includes('Route GET:/nope?[redacted] not found')), 'and the 404 message')
    t.ok(lines.some((line) => line.includes('Route GET:/nope[redacted] not found')), 'an encoded ? too')
    t.ok(lines.some((line) => line.includes('Route GET:/ws;[redacted] not found')), 'a ; parameter too')
    t.strictSame(lines.filter((line) => /-404-TOKEN|GUARDED-ROUTE-TOKEN/.test(line)), [])
  })
}

t.test('workaround: a not-found handler set after the guard logs no token', async (t) => {
  const { stream, lines } = logCollector()
  const fx = await build(t, {
    logger: { level: 'info', stream },
    guard: { query: true },
    routes: (app) => {
      app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not_found' }))
    },
  })
  const result = await connect(fx.url('/nope?token=CUSTOM-404-TOKEN'))
  t.equal(result.kind === 'refused' && result.status, 404)
  await fetch(`http://127.0.0.1:${fx.port}/nope?token=CUSTOM-404-TOKEN`)
  await fx.app.close()
  t.ok(lines.some((line) => line.includes('"url":"/nope?[redacted]"')), 'the 404 request line is redacted')
  t.strictSame(lines.filter((line) => line.includes('CUSTOM-404-TOKEN')), [])
})
