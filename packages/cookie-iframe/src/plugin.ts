import { readFile } from 'node:fs/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyCookie, { type SerializeOptions } from '@fastify/cookie'
import fp from 'fastify-plugin'
import {
  WsAuthError, headerLines, isWsAuthError, parseAuthorization, toWsAuthError, type Identity,
} from '@wsauth/core'
import { refuseRequest, takeNoBody } from '@wsauth/ws-bearer'
import { MAX_COOKIE_BYTES, cookieExtractor, sessionCookieFor } from './extractor.js'
import { PLUGIN, checkOptions, optionError, type CookieIframeOptions } from './options.js'
import { iframeCsp, iframePage } from './page.js'

export type { CookieIframeOptions }

async function cookieIframe (fastify: FastifyInstance, options: CookieIframeOptions): Promise<void> {
  const { prefix, secret, parentOrigins, cookieName, realm } = checkOptions(options)
  const cookieFor = sessionCookieFor(cookieName)

  if (!fastify.hasDecorator('parseCookie')) {
    if (secret === undefined) {
      throw optionError('secret', 'is needed to sign the session cookie (an array rotates keys), unless @fastify/cookie is registered with one first')
    }
    // Without its parsing hook: this plugin reads only its own cookie, and only on the routes that need it, so the
    // app's other requests don't pay for a parse. An app that wants `request.cookies` registers @fastify/cookie itself.
    await fastify.register(fastifyCookie, { secret, hook: false })
  } else if (secret !== undefined) {
    throw optionError('secret', 'must be left out: @fastify/cookie is already registered, so give its `secret` there')
  }
  if (!fastify.hasDecorator('signCookie')) {
    throw new Error(`${PLUGIN}: @fastify/cookie was registered without a \`secret\`; the session cookie must be signed`)
  }

  const guard = fastify.wsAuth
  // The routes' path on the server: the plugin's prefix under the context it is registered in.
  const endpoint = fastify.prefix + prefix
  const extractor = cookieExtractor(cookieFor, (value) => fastify.unsignCookie(value), endpoint)
  // The guard refuses an ambient transport without an Origin allowlist: that is the startup error for a missing one.
  guard.registerExtractor(extractor)
  guard.addDiscovery({ endpoints: { cookie: endpoint } })

  // `guard.origins` is set: registering the extractor would have thrown otherwise.
  const parents = [...(parentOrigins ?? guard.origins!).origins]
  const page = iframePage(parents)
  const csp = iframeCsp(parents)
  const [iframeScript, clientScript] = await Promise.all([
    readFile(new URL('./iframe.js', import.meta.url), 'utf8'),
    readFile(new URL('./client.js', import.meta.url), 'utf8'),
  ])

  function attributes (request: FastifyRequest): SerializeOptions {
    return { httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https' }
  }

  // Fetch Metadata: a browser says who started a request. Only the iframe's own same-origin fetch may set or clear the
  // session (a cross-origin one also needs a CORS preflight this plugin never grants); machines send no such header.
  function assertSameOrigin (request: FastifyRequest): void {
    const site = request.headers['sec-fetch-site']
    if (site !== undefined && site !== 'same-origin') throw new WsAuthError('forbidden', 'not a same-origin request')
  }

  function refuse (request: FastifyRequest, reply: FastifyReply, thrown: unknown): FastifyReply {
    return refuseRequest(request, reply, thrown, { realm }, 'wsauth session request')
  }

  async function bearerIdentity (request: FastifyRequest): Promise<{ token: string, identity: Identity }> {
    // Any other scheme carries no credential here, as at the guard.
    const authorization = parseAuthorization(headerLines(request.raw, 'authorization'), ['bearer'])
    if (authorization === null) throw new WsAuthError('missing', 'no credentials')
    const token = authorization.credentials
    return { token, identity: await guard.verifyToken(token, request, 'cookie') }
  }

  fastify.get(`${prefix}/iframe`, async (_request, reply) => reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .send(page))

  fastify.get(`${prefix}/iframe.js`, async (_request, reply) => reply
    .type('text/javascript; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .send(iframeScript))

  // Imported as a module by pages on other origins: a module script is fetched in CORS mode, without credentials.
  fastify.get(`${prefix}/client.js`, async (_request, reply) => reply
    .type('text/javascript; charset=utf-8')
    .header('access-control-allow-origin', '*')
    .header('cross-origin-resource-policy', 'cross-origin')
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .send(clientScript))

  // The session routes read no body: their own context, where an empty one of any type is fine and a body is a 400.
  await fastify.register(async function sessionRoutes (session) {
    takeNoBody(session)
    // The refused body arrives here; any other error goes on to the app's error handler.
    session.setErrorHandler(function refusedBody (error, request, reply) {
      if (!isWsAuthError(error)) throw error
      return refuse(request, reply, error)
    })

    session.post(`${prefix}/session`, async (request, reply) => {
      try {
        assertSameOrigin(request)
        const { token, identity } = await bearerIdentity(request)
        // The cookie dies with the token (never later); a token without `exp` gets a browser-session cookie.
        const maxAge = identity.expiresAt === null ? undefined : Math.floor((identity.expiresAt - Date.now()) / 1000)
        if (maxAge !== undefined && maxAge < 1) throw new WsAuthError('invalid', 'token expired')
        const cookie = cookieFor(request)
        const value = fastify.signCookie(token)
        // A browser silently drops a longer cookie: the page would be told "done" and then fail to connect.
        if (cookie.name.length + 1 + value.length > MAX_COOKIE_BYTES) {
          throw new WsAuthError('malformed', 'token too long for a cookie')
        }
        return reply
          .header('set-cookie', fastify.serializeCookie(cookie.name, value, { ...attributes(request), maxAge }))
          .header('cache-control', 'no-store')
          .code(204)
          .send()
      } catch (thrown) {
        return refuse(request, reply, thrown)
      }
    })

    // Whether this request carries a session cookie that works: the iframe asks right after POST, because a browser may
    // accept the Set-Cookie and then not store it.
    session.get(`${prefix}/session`, async (request, reply) => {
      try {
        assertSameOrigin(request)
        const credential = extractor.extract(request)
        if (credential?.kind !== 'token') throw new WsAuthError('missing', 'no session cookie')
        await guard.verifyToken(credential.token, request, 'cookie')
        return reply.header('cache-control', 'no-store').code(204).send()
      } catch (thrown) {
        return refuse(request, reply, thrown)
      }
    })

    session.delete(`${prefix}/session`, async (request, reply) => {
      try {
        assertSameOrigin(request)
      } catch (thrown) {
        return refuse(request, reply, thrown)
      }
      const { name } = cookieFor(request)
      reply.header('set-cookie', fastify.serializeCookie(name, '', { ...attributes(request), maxAge: 0, expires: new Date(0) }))
      try {
        const credential = extractor.extract(request)
        if (credential?.kind === 'token') guard.disconnect((await guard.verifyToken(credential.token, request, 'cookie')).subject)
      } catch (thrown) {
        // A cookie that no longer verifies (expired, revoked, tampered) has no live socket left to close: clearing it
        // is the whole logout. A server-side failure is reported, after the cookie is cleared all the same.
        const error = toWsAuthError(thrown)
        if (error.outcome === 'internal' || error.outcome === 'unavailable') return refuse(request, reply, error)
      }
      return reply.header('cache-control', 'no-store').code(204).send()
    })
  })
}

export default fp(cookieIframe, {
  name: '@wsauth/cookie-iframe',
  fastify: '5.x',
  dependencies: ['@wsauth/ws-bearer'],
})
