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
    await t.rejects(ready(app(GUARD, {})), {
      code: 'ERR_WSAUTH_OPTIONS',
      message: '@wsauth/cookie-iframe: option "secret" is needed to sign the session cookie (an array rotates keys), unless @fastify/cookie is registered with one first',
    })
  })
  t.test('empty, or of the wrong kind: error', async (t) => {
    for (const secret of ['', [], [''], [COOKIE_SECRET, ''], Buffer.alloc(0), 42, { key: COOKIE_SECRET }, [COOKIE_SECRET, 7]]) {
      await t.rejects(ready(app(GUARD, { secret } as unknown as CookieIframeOptions)), {
        code: 'ERR_WSAUTH_OPTIONS',
        message: '@wsauth/cookie-iframe: option "secret" must be a non-empty string or Buffer, or a non-empty array of them',
      }, JSON.stringify(secret))
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
    await t.rejects(ready(fastify), {
      code: 'ERR_WSAUTH_OPTIONS',
      message: '@wsauth/cookie-iframe: option "secret" must be left out: @fastify/cookie is already registered, so give its `secret` there',
    })
  })
  t.test('a Buffer, and an array of Buffers: accepted', async (t) => {
    await ready(app(GUARD, { secret: Buffer.from(COOKIE_SECRET) }))
    await ready(app(GUARD, { secret: [Buffer.from(COOKIE_SECRET), Buffer.from('the-previous-key')] }))
    t.pass('both apps are ready')
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

t.test('bad options: startup errors naming the option', async (t) => {
  const PATH = 'must be a path starting with "/" (no query, fragment or space)'
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ prefx: '/ws-auth' }, 'prefx', 'is not an option of @wsauth/cookie-iframe'],
    [{ origins: [ORIGIN] }, 'origins', 'is not an option of @wsauth/cookie-iframe'],
    [{ prefix: 'ws-auth' }, 'prefix', PATH],
    [{ prefix: '/ws-auth?x' }, 'prefix', PATH],
    [{ prefix: 7 }, 'prefix', 'must be a non-empty string; got 7'],
    [{ prefix: '/ws-auth/' }, 'prefix', 'must not end with "/" (the routes are <prefix>/iframe, <prefix>/session, …)'],
    [{ prefix: '/' }, 'prefix', 'must not end with "/" (the routes are <prefix>/iframe, <prefix>/session, …)'],
    [{ cookieName: 'ws auth' }, 'cookieName', 'must be a cookie name: letters, digits and !#$%&\'*+-.^_`|~ only'],
    [{ cookieName: 'a=b' }, 'cookieName', 'must be a cookie name: letters, digits and !#$%&\'*+-.^_`|~ only'],
    [{ cookieName: '' }, 'cookieName', 'must be a non-empty string; got a string'],
    [{ cookieName: ['wsauth'] }, 'cookieName', 'must be a non-empty string; got an array'],
    [{ realm: null }, 'realm', 'must be a non-empty string; got null'],
    [{ parentOrigins: ORIGIN }, 'parentOrigins', 'must be an array of non-empty strings; got a string'],
    [{ parentOrigins: [ORIGIN, 8001] }, 'parentOrigins', 'must be an array of non-empty strings; got an array'],
    [{ parentOrigins: [] }, 'parentOrigins', 'must name at least one origin'],
    [{ parentOrigins: ['*'] }, 'parentOrigins', 'must hold exact origins: not an origin: "*"'],
    [{ parentOrigins: ['https://*.example.com'] }, 'parentOrigins',
      'must hold exact origins: not an origin: "https://*.example.com" (expected scheme://host[:port])'],
    [{ parentOrigins: ['null'] }, 'parentOrigins', 'must hold exact origins: not an origin: "null"'],
    [{ parentOrigins: ['http://localhost:8000/app'] }, 'parentOrigins',
      'must hold exact origins: not an origin: "http://localhost:8000/app" (expected scheme://host[:port])'],
  ]
  for (const [options, option, problem] of cases) {
    await t.rejects(ready(app(GUARD, { secret: COOKIE_SECRET, ...options } as CookieIframeOptions)),
      { code: 'ERR_WSAUTH_OPTIONS', message: `@wsauth/cookie-iframe: option "${option}" ${problem}` }, JSON.stringify(options))
  }
  await t.rejects(ready(app(GUARD, 'yes' as unknown as CookieIframeOptions)),
    { code: 'ERR_WSAUTH_OPTIONS', message: '@wsauth/cookie-iframe: option "options" must be an object; got a string' })
})

t.test('good options, and Fastify\'s own register options beside them, start', async (t) => {
  const fastify = app(GUARD, {
    secret: COOKIE_SECRET, prefix: '/auth/cookie', cookieName: 'sid', realm: 'chat', parentOrigins: [ORIGIN, 'https://app.example'], logLevel: 'warn',
  } as CookieIframeOptions)
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  const port = (fastify.server.address() as { port: number }).port
  const token = (fastify as unknown as { jwt: { sign (payload: object): string } }).jwt.sign({ sub: 'alice' })
  const response = await fetch(`http://127.0.0.1:${port}/auth/cookie/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  t.equal(response.status, 204)
  t.match(response.headers.getSetCookie()[0], /^sid=/)
  const page = await fetch(`http://127.0.0.1:${port}/auth/cookie/iframe`)
  t.match(page.headers.get('content-security-policy'), /frame-ancestors http:\/\/localhost:8000 https:\/\/app\.example$/)
})
