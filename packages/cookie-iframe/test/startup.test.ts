// Configuration mistakes are startup errors, never a server that runs without its protections.
import t from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import wsBearer, { type WsAuthOptions } from '@wsauth/ws-bearer'
import cookieIframe, { type CookieIframeOptions } from '@wsauth/cookie-iframe'
import { nextMessage, opened } from '../../../test/helpers/ws.ts'
import { COOKIE_SECRET, ORIGIN, SECRET, cookiePair } from './fixture.ts'

/** An app with @fastify/jwt, @fastify/websocket, `before`, the guard (unless `null`) and the plugin; not started. */
function app (
  guard: WsAuthOptions | null,
  plugin: CookieIframeOptions,
  before?: (app: FastifyInstance) => void
): FastifyInstance {
  const fastify = Fastify({ logger: false })
  t.teardown(() => fastify.close())
  fastify.register(fastifyJwt, { secret: SECRET })
  fastify.register(fastifyWebsocket)
  before?.(fastify)
  if (guard !== null) fastify.register(wsBearer, guard)
  fastify.register(cookieIframe, plugin)
  return fastify
}

const GUARD = { origins: [ORIGIN] }

async function ready (fastify: FastifyInstance): Promise<void> {
  await fastify.ready()
}

t.test('the guard has no Origin allowlist: the cookie transport refuses to start', async (t) => {
  await t.rejects(ready(app({}, { secret: COOKIE_SECRET })), { message: /the cookie transport is ambient; set `origins` to an allowlist/ })
  await t.rejects(ready(app({ origins: [] }, { secret: COOKIE_SECRET })), { message: /the cookie transport is ambient/ })
})

t.test('no guard registered: a plugin dependency error', async (t) => {
  await t.rejects(ready(app(null, { secret: COOKIE_SECRET })), { message: /@wsauth\/ws-bearer/ })
})

t.test('registered twice: the guard refuses a second cookie transport', async (t) => {
  const fastify = app(GUARD, { secret: COOKIE_SECRET })
  fastify.register(cookieIframe, { prefix: '/other' })
  await t.rejects(ready(fastify), { message: /a cookie extractor is already registered/ })
})

t.test('the signing key', async (t) => {
  t.test('none at all: error', async (t) => {
    for (const secret of [undefined, '', [], ['']]) {
      await t.rejects(ready(app(GUARD, { secret })), { message: /set `secret` to sign the session cookie/ }, JSON.stringify(secret))
    }
  })
  t.test('@fastify/cookie registered by the app without a secret: error', async (t) => {
    const fastify = app(GUARD, {}, (fastify) => { fastify.register(fastifyCookie) })
    await t.rejects(ready(fastify), { message: /registered without a `secret`/ })
  })
  t.test('@fastify/cookie registered with a secret, and another one given here: error', async (t) => {
    const fastify = app(GUARD, { secret: COOKIE_SECRET }, (fastify) => {
      fastify.register(fastifyCookie, { secret: COOKIE_SECRET })
    })
    await t.rejects(ready(fastify), { message: /already registered: give its `secret` there/ })
  })
  t.test('@fastify/cookie registered by the app with a secret: used as is', async (t) => {
    const fastify = app(GUARD, {}, (fastify) => {
      fastify.register(fastifyCookie, { secret: COOKIE_SECRET, parseOptions: { domain: 'example.test' } })
    })
    await fastify.after()
    fastify.get('/ws', { websocket: true }, (socket, request) => socket.send(`Welcome ${request.identity!.subject}!`))
    await fastify.listen({ port: 0, host: '127.0.0.1' })
    const port = (fastify.server.address() as { port: number }).port
    const token = (fastify as unknown as { jwt: { sign (payload: object): string } }).jwt.sign({ sub: 'alice' })
    const response = await fetch(`http://127.0.0.1:${port}/ws-auth/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    t.equal(response.status, 204)
    t.notMatch(response.headers.getSetCookie()[0], /Domain/i, 'the app\'s cookie defaults do not widen the session cookie')
    const { socket } = await opened(`ws://127.0.0.1:${port}/ws`, { headers: { cookie: cookiePair(response) }, origin: ORIGIN })
    t.equal(await nextMessage(socket), 'Welcome alice!')
    socket.close()
  })
})

t.test('bad options: errors naming the option', async (t) => {
  const cases: Array<[CookieIframeOptions, RegExp]> = [
    [{ prefix: 'ws-auth' }, /prefix must start with "\/"/],
    [{ prefix: '/ws-auth/' }, /prefix must start with "\/" and not end with one/],
    [{ prefix: '/' }, /prefix must start with "\/" and not end with one/],
    [{ cookieName: 'ws auth' }, /not a cookie name: "ws auth"/],
    [{ cookieName: 'a=b' }, /not a cookie name/],
    [{ parentOrigins: [] }, /`parentOrigins` must name at least one origin/],
    [{ parentOrigins: ['*'] }, /not an origin: "\*"/],
    [{ parentOrigins: ['https://*.example.com'] }, /not an origin/],
    [{ parentOrigins: ['null'] }, /not an origin: "null"/],
    [{ parentOrigins: ['http://localhost:8000/app'] }, /not an origin/],
  ]
  for (const [options, message] of cases) {
    await t.rejects(ready(app(GUARD, { secret: COOKIE_SECRET, ...options })), { message }, JSON.stringify(options))
  }
})
