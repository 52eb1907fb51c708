// "The token never reaches a log line": Fastify's logger at info and at debug, captured, through good and bad
// handshakes over every transport.
import t from 'tap'
import { redactingLoggerOptions } from '@wsauth/core'
import { closed, connect, opened, refused } from '../../../test/helpers/ws.ts'
import { OTHER_SECRET, basic, bearer, build, closedOnOpen, craftJwt, logCollector, nowSeconds } from '../../../test/helpers/index.ts'

for (const level of ['info', 'debug'] as const) {
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

    // The unknown path, kept apart: see the TODO below.
    const notFound = `NOT-FOUND-TOKEN-${level}`
    const result = await connect(fx.url(`/nope?token=${notFound}`))
    t.equal(result.kind === 'refused' && result.status, 404)
    await fetch(`http://127.0.0.1:${fx.port}/nope?token=${notFound}`)

    // Closing the app waits for every response, so every line is in.
    await fx.app.close()

    t.ok(lines.length > 10, `${lines.length} lines captured`)
    t.ok(lines.some((line) => line.includes('"url":"/ws?token=[redacted]"')), 'a redacted url line is logged')
    t.ok(lines.some((line) => line.includes('"url":"/ws?a=1&%74oken=[redacted]"')), 'an encoded name is redacted too')
    t.ok(lines.some((line) => line.includes('"url":"/close-mode?token=[redacted]"')), 'close mode')
    t.ok(lines.some((line) => line.includes('websocket authentication rejected')), 'rejections are logged')
    for (const value of secrets) {
      const leaks = lines.filter((line) => line.includes(value))
      t.strictSame(leaks, [], `${value.slice(0, 24)}… is in no log line`)
    }

    const guarded = lines.filter((line) => !line.includes('/nope'))
    t.ok(guarded.every((line) => !/token=(?!\[redacted\])[^&"\s]/.test(line)), 'no unredacted token= on a guarded route')

    // TODO: Fastify's 404 route logs the raw URL twice ("incoming request", and "Route GET:/nope?token=… not found").
    // Its context (and so its child-logger factory) is created when Fastify is, before any plugin runs, and the second
    // line is a message string, not a serialised field: the guard cannot reach either from a plugin. The app can: with
    // `redactingLoggerOptions` from @wsauth/core in Fastify's constructor, or its own not-found handler (tested below).
    const notFoundLeaks = lines.filter((line) => line.includes(notFound))
    t.strictSame(notFoundLeaks, [], 'the 404 route does not log the token', {
      todo: 'the default 404 route logs the raw URL; only app-level logger options can redact it',
    })
  })
}

for (const level of ['info', 'debug'] as const) {
  t.test(`redactingLoggerOptions in Fastify's constructor: not even the default 404 logs the token, at ${level}`, async (t) => {
    const { stream, lines } = logCollector()
    const fx = await build(t, {
      logger: { level, stream, ...redactingLoggerOptions(['token']) },
      guard: { query: true },
    })
    const result = await connect(fx.url('/nope?token=DEFAULT-404-TOKEN'))
    t.equal(result.kind === 'refused' && result.status, 404)
    await fetch(`http://127.0.0.1:${fx.port}/nope?token=DEFAULT-404-TOKEN`)
    await refused(fx.url('/ws?token=GUARDED-ROUTE-TOKEN'))
    await fx.app.close()
    t.ok(lines.some((line) => line.includes('"url":"/nope?token=[redacted]"')), 'the 404 request line is redacted')
    t.ok(lines.some((line) => line.includes('Route GET:/nope?token=[redacted] not found')), 'and the 404 message')
    t.strictSame(lines.filter((line) => line.includes('DEFAULT-404-TOKEN') || line.includes('GUARDED-ROUTE-TOKEN')), [])
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
  t.ok(lines.some((line) => line.includes('"url":"/nope?token=[redacted]"')), 'the 404 request line is redacted')
  t.strictSame(lines.filter((line) => line.includes('CUSTOM-404-TOKEN')), [])
})
