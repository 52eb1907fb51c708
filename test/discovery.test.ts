// The discovery document of an app with every transport package, over real TCP: each package describes its own part
// (the guard its header, Basic and query; subprotocol-token its formats and default protocols; cookie-iframe its
// endpoint; first-message `inBand`; password-bearer the token and revoke endpoints; ticket its endpoint and transport), the whole is valid against core's
// schema, and nothing secret is in it.
import type { AddressInfo } from 'node:net'
import t from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import wsBearer from '@wsauth/ws-bearer'
import subprotocolToken from '@wsauth/subprotocol-token'
import cookieIframe from '@wsauth/cookie-iframe'
import firstMessage from '@wsauth/first-message'
import passwordBearer, { MemoryUserStore } from '@wsauth/password-bearer'
import ticket from '@wsauth/ticket'
import type { DiscoveryDocument } from '@wsauth/core'
import { ALLOWED_ORIGIN, SECRET } from './helpers/index.ts'
import { discoveryCloseCodes, discoveryErrors } from './helpers/discovery.ts'

const COOKIE_SECRET = 'a-cookie-secret-nobody-may-read-in-the-document'

t.test('every transport package describes its part; valid against the schema; nothing secret', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  const users = new MemoryUserStore({ scrypt: { N: 1024, r: 8, p: 1 } })
  await users.add('janedoe', 'a-password-nobody-may-read')
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  await app.register(wsBearer, { origins: [ALLOWED_ORIGIN], basic: true, mode: 'close' })
  await app.register(subprotocolToken, { formats: { kubernetes: false }, protocols: ['chat.v1'] })
  await app.register(cookieIframe, { secret: COOKIE_SECRET, prefix: '/session-cookie' })
  await app.register(ticket, { path: '/tickets' })
  await app.register(firstMessage, { timeoutMs: 2000, maxPayload: 1024, expiringNoticeMs: 15_000, messages: { typeKey: 'kind' } })
  await app.register(async (auth) => {
    await auth.register(passwordBearer, { users, scrypt: { N: 1024, r: 8, p: 1 }, tokenPath: '/oauth/token' })
  }, { prefix: '/auth' })
  app.get('/chat', { websocket: true, config: { wsAuth: { refresh: true } } }, () => {})
  app.get('/bare', { websocket: true, config: { wsAuth: { mode: 'http', protocols: [], firstMessage: true } } }, () => {})
  app.get('/open', { websocket: true, config: { wsAuth: false } }, () => {})
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo

  const response = await fetch(`http://127.0.0.1:${port}/.well-known/wsauth`)
  const text = await response.text()
  const document = JSON.parse(text) as DiscoveryDocument
  const transports = {
    bearer: {},
    basic: { tokenUsername: 'token', password: false },
    subprotocol: { formats: ['jupyter', 'wsauth'] },
    cookie: { endpoint: '/session-cookie' },
    ticket: { endpoint: '/tickets', param: 'ticket', subprotocolPrefix: 'wsauth.ticket.' },
  }
  t.strictSame(document, {
    wsauth: 1,
    endpoints: { cookie: '/session-cookie', ticket: '/tickets', token: '/auth/oauth/token', revoke: '/auth/revoke' },
    inBand: {
      timeoutMs: 2000,
      maxPayload: 1024,
      expiringNoticeMs: 15_000,
      messages: { typeKey: 'kind', tokenKey: 'token', auth: 'auth', refresh: 'auth.refresh', ok: 'auth.ok', expiring: 'auth.expiring' },
    },
    closeCodes: discoveryCloseCodes(),
    routes: [
      { path: '/chat', mode: 'close', protocols: ['chat.v1'], firstMessage: false, refresh: true, transports },
      // No application protocol to echo: only JEP 121's marker can stand in, so only the jupyter format is listed.
      { path: '/bare', mode: 'http', protocols: [], firstMessage: true, refresh: false, transports: { ...transports, subprotocol: { formats: ['jupyter'] } } },
    ],
  })
  t.strictSame(discoveryErrors(document), [], 'valid against @wsauth/core/discovery.schema.json')
  for (const secret of [ALLOWED_ORIGIN, 'localhost', SECRET, COOKIE_SECRET, 'janedoe', 'a-password-nobody-may-read']) {
    t.notOk(text.includes(secret), `nothing secret: no ${secret}`)
  }
})
