// Authorization after authentication (403, not 401) and the exact Origin allowlist (CSWSH).
import t from 'tap'
import type { FastifyRequest } from 'fastify'
import type { Identity } from '@wsauth/core'
import { nextMessage, opened, rawHandshake, refused } from '../../../test/helpers/ws.ts'
import { REFUSED_ORIGINS } from '../../../test/helpers/origins.ts'
import { assertRefused, basic, bearer, build, stillServes } from '../../../test/helpers/index.ts'

const FORBIDDEN = { status: 403, wwwAuthenticate: null }

t.test('authorize, global and per route: 403', async (t) => {
  const seen: Array<{ subject: string, url: string }> = []
  const fx = await build(t, {
    guard: {
      query: true,
      // Global: every guarded route needs the `chat` scope.
      authorize (identity: Identity, request: FastifyRequest) {
        seen.push({ subject: identity.subject, url: request.url })
        return identity.scopes.includes('chat')
      },
    },
    routes: (app) => {
      // Per route: replaces the global rule (admin only; `chat` is not needed here).
      app.get('/admin', {
        websocket: true,
        config: { wsAuth: { authorize: async (identity) => identity.scopes.includes('admin') } },
      }, (socket, request) => { socket.send(`admin ${request.identity?.subject ?? ''}`) })
    },
  })
  const chatter = fx.sign({ sub: 'alice', scope: 'chat' })
  const admin = fx.sign({ sub: 'root', scope: 'admin' })
  const nobody = fx.sign({ sub: 'bob', scope: 'read' })

  t.test('global rule', async (t) => {
    const before = fx.handled
    assertRefused(t, await refused(fx.url(), bearer(nobody)), {
      ...FORBIDDEN, body: { error: 'forbidden', error_description: 'not allowed' },
    }, 'authenticated, no scope')
    assertRefused(t, await refused(fx.url(`/ws?token=${admin}`)), FORBIDDEN, 'admin is not chat')
    t.equal(fx.handled, before, 'the app handler never ran')
    t.match(seen.at(-1), { subject: 'root', url: /^\/ws\?token=/ }, 'authorize gets the identity and the request')
    const { socket } = await opened(fx.url(), bearer(chatter))
    t.equal(await nextMessage(socket), 'Welcome alice!')
    socket.close()
  })

  t.test('per-route rule wins over the global one', async (t) => {
    assertRefused(t, await refused(fx.url('/admin'), bearer(chatter)), FORBIDDEN, 'chat is not admin')
    const { socket } = await opened(fx.url('/admin'), bearer(admin))
    t.equal(await nextMessage(socket), 'admin root', 'admin without chat opens the admin route')
    socket.close()
  })

  t.test('authentication comes first: no credential is 401, not 403', async (t) => {
    assertRefused(t, await refused(fx.url('/admin')), { status: 401 })
    assertRefused(t, await refused(fx.url('/admin'), bearer('junk')), { status: 401 })
    await stillServes(t, fx, { scope: 'chat' })
  })
})

t.test('authorize that throws is a bug: 500, no message leaked, server keeps serving', async (t) => {
  const fx = await build(t, {
    guard: {
      authorize (identity) {
        if (identity.subject === 'crash') throw new Error('SELECT * FROM grants failed: secret-table')
        return true
      },
    },
  })
  const refusal = await refused(fx.url(), bearer(fx.sign({ sub: 'crash' })))
  assertRefused(t, refusal, { status: 500, wwwAuthenticate: null, body: { error: 'server_error', error_description: 'internal error' } })
  t.notMatch(refusal.body, /secret-table|SELECT/)
  await stillServes(t, fx)
})

t.test('origin allowlist', async (t) => {
  const ALLOWED = 'http://localhost:8000'
  const fx = await build(t, {
    guard: { origins: [ALLOWED, 'https://app.example.com:443/'], query: true, basic: true },
  })
  const token = fx.sign({ sub: 'alice' })

  t.test('an allowed origin opens', async (t) => {
    for (const origin of [ALLOWED, 'https://app.example.com']) {
      const { socket } = await opened(fx.url(), { ...bearer(token), origin })
      t.equal(await nextMessage(socket), 'Welcome alice!', origin)
      socket.close()
    }
  })

  t.test('foreign, lookalike, null, other scheme, other port: 403 even with a valid token', async (t) => {
    // The allowlist also holds https://app.example.com, which a browser never sends with its default port.
    const origins = [...REFUSED_ORIGINS, 'https://app.example.com:443', 'https://app.example.com.evil.test']
    for (const origin of origins) {
      const before = fx.handled
      assertRefused(t, await refused(fx.url(), { ...bearer(token), origin }), {
        ...FORBIDDEN, body: { error: 'forbidden', error_description: 'origin not allowed' },
      }, JSON.stringify(origin))
      t.equal(fx.handled, before, `${JSON.stringify(origin)}: the app handler never ran`)
    }
    for (const transport of [{ headers: { Authorization: `Basic ${Buffer.from(`token:${token}`).toString('base64')}` } }, {}]) {
      const url = 'headers' in transport ? fx.url() : fx.url(`/ws?token=${token}`)
      assertRefused(t, await refused(url, { ...transport, origin: 'http://evil.test' }), FORBIDDEN, 'over Basic and query too')
    }
    const raw = await rawHandshake(fx.port, '/ws', [`Authorization: Bearer ${token}`, 'Origin: http://evil.test'])
    t.equal(raw.status, 403, 'raw: 403')
    const empty = await rawHandshake(fx.port, '/ws', [`Authorization: Bearer ${token}`, 'Origin: '])
    t.equal(empty.status, 403, 'an empty Origin header is not a missing one: 403')
    await stillServes(t, fx)
  })

  t.test('the origin check comes before the credential: a foreign origin with no token is 403', async (t) => {
    assertRefused(t, await refused(fx.url(), { origin: 'http://evil.test' }), FORBIDDEN)
  })

  t.test('no Origin header (a machine client) passes the check', async (t) => {
    const { socket } = await opened(fx.url(), bearer(token))
    t.equal(await nextMessage(socket), 'Welcome alice!', 'Bearer')
    socket.close()
    const viaBasic = await opened(fx.url(), basic(`token:${token}`))
    t.equal(await nextMessage(viaBasic.socket), 'Welcome alice!', 'Basic')
    viaBasic.socket.close()
    const viaQuery = await opened(fx.url(`/ws?token=${token}`))
    t.equal(await nextMessage(viaQuery.socket), 'Welcome alice!', 'query')
    viaQuery.socket.close()
  })
})
