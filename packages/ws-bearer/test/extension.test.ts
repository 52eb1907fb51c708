// The extension API, as a transport package outside core uses it: a new transport name by declaration merging, an
// extractor, and the extractor's own verification for a credential that is not a token (a single-use ticket bound to
// an Origin), after which the guard's denylist and `authorize` still apply; subprotocol claims. Over real TCP.
import t from 'tap'
import type { Transport } from '@wsauth/core'
import { PRECEDENCE, type Extractor, type IdentityInit } from '@wsauth/ws-bearer'
import { nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { assertRefused, build, stillServes } from '../../../test/helpers/index.ts'

declare module '@wsauth/core' {
  interface Transports {
    /** A single-use ticket, as @wsauth/ticket adds it. */
    ticket: true
  }
}

const ORIGIN = 'http://localhost:8000'

interface Ticket { identity: IdentityInit, origin: string }

/** A ticket transport: `?ticket=<t>`, redeemed once from a store into the identity it was issued for. */
function ticketTransport (store: Map<string, Ticket>): Extractor {
  const transport: Transport = 'ticket'
  return {
    transport,
    precedence: PRECEDENCE.query - 1,
    extract (request) {
      const value = new URLSearchParams(request.url.split('?')[1] ?? '').get('ticket')
      return value === null || value === '' ? null : { kind: 'token', transport, token: value }
    },
    async verify (credential, request) {
      if (credential.kind !== 'token') return null
      const ticket = store.get(credential.token)
      // Redeemed exactly once, whatever comes of it.
      store.delete(credential.token)
      if (ticket === undefined || request.headers.origin !== ticket.origin) return null
      return ticket.identity
    },
  }
}

t.test('a transport added outside core: its own verification, then the guard\'s denylist and authorize', async (t) => {
  const fx = await build(t, {
    guard: { origins: [ORIGIN], authorize: (identity) => !identity.scopes.includes('banned') },
  })
  const store = new Map<string, Ticket>()
  fx.app.wsAuth.registerExtractor(ticketTransport(store))
  const issue = (name: string, identity: IdentityInit, origin = ORIGIN): string => {
    store.set(name, { identity, origin })
    return name
  }
  const expiresAt = Date.now() + 60_000

  const ticket = issue('t-good', { subject: 'alice', scopes: ['chat'], tokenId: 'jti-1', expiresAt })
  const { socket } = await opened(fx.url(`/identity?ticket=${ticket}`), { origin: ORIGIN })
  t.strictSame(JSON.parse(await nextMessage(socket)),
    { subject: 'alice', scopes: ['chat'], claims: {}, transport: 'ticket', expiresAt, tokenId: 'jti-1' })
  t.equal(fx.app.wsAuth.connectionCount('alice'), 1, 'tracked like any socket')
  socket.close()

  assertRefused(t, await refused(fx.url(`/ws?ticket=${ticket}`), { origin: ORIGIN }),
    { status: 401, body: { error: 'invalid_token', error_description: 'invalid token' } }, 'a ticket is redeemed once')
  assertRefused(t, await refused(fx.url(`/ws?ticket=${issue('t-elsewhere', { subject: 'alice' }, 'http://localhost:9000')}`), { origin: ORIGIN }),
    { status: 401 }, 'bound to the Origin it was issued for')

  await fx.app.wsAuth.revokeToken('jti-revoked', expiresAt)
  assertRefused(t, await refused(fx.url(`/ws?ticket=${issue('t-revoked', { subject: 'alice', tokenId: 'jti-revoked' })}`), { origin: ORIGIN }),
    { status: 401, body: { error: 'invalid_token', error_description: 'token revoked' } }, 'the denylist applies after it')
  assertRefused(t, await refused(fx.url(`/ws?ticket=${issue('t-banned', { subject: 'mallory', scopes: ['banned'] })}`), { origin: ORIGIN }),
    { status: 403 }, 'and authorize')
  assertRefused(t, await refused(fx.url(`/ws?ticket=${'a'.repeat(4097)}`), { origin: ORIGIN }),
    { status: 400, body: { error: 'invalid_request', error_description: 'credential too long' } }, 'and the length cap')

  const revoking = issue('t-live', { subject: 'bob', tokenId: 'jti-live', expiresAt })
  const live = await opened(fx.url(`/ws?ticket=${revoking}`), { origin: ORIGIN })
  t.equal(await nextMessage(live.socket), 'Welcome bob!')
  t.equal(await fx.app.wsAuth.revokeToken('jti-live', expiresAt), 1, 'revoking its token id closes the socket')
  await stillServes(t, fx)
})

t.test('claimSubprotocols: claimed protocols leave the request before ws or the app see them; prefixes are checked', async (t) => {
  const fx = await build(t, {
    plugins: async (app) => { app.wsAuth.claimSubprotocols('x-secret.') },
    routes: (app) => {
      app.get('/offer', { websocket: true, config: { wsAuth: false } }, (socket, request) => {
        const offer = app.wsAuth.subprotocolOffer(request)
        socket.send(JSON.stringify({ header: request.headers['sec-websocket-protocol'] ?? null, ...offer, claimed: [...offer.claimed] }))
      })
    },
  })
  const { socket, protocol } = await opened(fx.url('/offer'), { protocols: ['x-secret.abc', 'echo.v1', 'x-secret.def'] })
  t.equal(protocol, 'echo.v1', 'ws echoes the first protocol left, never a claimed one')
  t.strictSame(JSON.parse(await nextMessage(socket)), {
    header: 'echo.v1', protocols: ['echo.v1'], claimed: [['x-secret.', ['x-secret.abc', 'x-secret.def']]],
  })
  socket.close()
  t.throws(() => fx.app.wsAuth.claimSubprotocols('x-secret.more.'), /overlaps x-secret\./, 'an overlapping prefix')
  t.throws(() => fx.app.wsAuth.claimSubprotocols('x-secret'), /overlaps x-secret\./, 'a prefix of a claimed prefix')
  t.throws(() => fx.app.wsAuth.claimSubprotocols('bad prefix'), /must be a token/, 'not a token')
  await stillServes(t, fx)
})
