// Redeeming a ticket on the handshake: by query and by subprotocol, exactly once, bound to the Origin that minted it.
// Every refusal is followed by a good handshake on the same server.
import t from 'tap'
import type { Identity } from '@wsauth/core'
import {
  INVALID_REQUEST_CHALLENGE, INVALID_TOKEN_CHALLENGE, assertRefused, bearer, closedOnOpen, nextMessage, opened, rawHandshake, refused,
  stillServes,
} from '../../../test/helpers/index.ts'
import { ALLOWED_ORIGIN, buildTicketApp, mint, ticketProtocols, ticketStillServes } from './fixture.ts'

const invalidToken = { status: 401, wwwAuthenticate: INVALID_TOKEN_CHALLENGE }
const malformed = { status: 400, wwwAuthenticate: INVALID_REQUEST_CHALLENGE }

for (const withSubprotocolToken of [false, true]) {
  const label = withSubprotocolToken ? 'with subprotocol-token' : 'without subprotocol-token'

  t.test(`${label}: a ticket by query and by subprotocol opens the socket as the token's identity`, async (t) => {
    const fx = await buildTicketApp(t, { subprotocolToken: withSubprotocolToken })
    const token = fx.token('alice', 'read write')
    const jwt = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number, jti: string }

    const byQuery = await opened(fx.url(`/identity?ticket=${await mint(fx, token)}`))
    const identity = JSON.parse(await nextMessage(byQuery.socket)) as Identity
    t.equal(identity.transport, 'ticket')
    t.equal(identity.subject, 'alice')
    t.strictSame(identity.scopes, ['read', 'write'])
    t.equal(identity.expiresAt, jwt.exp * 1000, 'the token\'s exp')
    t.equal(identity.tokenId, jwt.jti, 'the token\'s id')
    byQuery.socket.close()

    const ticket = await mint(fx, token)
    const bySubprotocol = await opened(fx.url('/identity'), { protocols: ticketProtocols(ticket) })
    t.equal(bySubprotocol.protocol, 'echo.v1', 'the application protocol is echoed')
    t.notMatch(String(bySubprotocol.headers['sec-websocket-protocol']), ticket, 'never the ticket')
    t.equal((JSON.parse(await nextMessage(bySubprotocol.socket)) as Identity).transport, 'ticket')
    bySubprotocol.socket.close()

    const raw = await rawHandshake(fx.port, '/ws', [`Sec-WebSocket-Protocol: wsauth.ticket.${await mint(fx, token)}, echo.v1`])
    t.equal(raw.status, 101, 'a ticket offered first')
    t.match(raw.head, /\r\nSec-WebSocket-Protocol: echo\.v1(\r\n|$)/, 'still only echo.v1 in the 101')
    await stillServes(t, fx)
  })

  t.test(`${label}: exactly once; expired, unknown and malformed tickets`, async (t) => {
    const fx = await buildTicketApp(t, { subprotocolToken: withSubprotocolToken })
    const ticket = await mint(fx, fx.token('alice'))
    const first = await opened(fx.url(`/ws?ticket=${ticket}`))
    t.equal(await nextMessage(first.socket), 'Welcome alice!')
    first.socket.close()
    assertRefused(t, await refused(fx.url(`/ws?ticket=${ticket}`)), invalidToken, 'second use by query')
    assertRefused(t, await refused(fx.url('/ws'), { protocols: ticketProtocols(ticket) }), invalidToken, 'second use by subprotocol')
    await ticketStillServes(t, fx)

    const expiring = await mint(fx, fx.token('alice'))
    fx.advance(30_000)
    assertRefused(t, await refused(fx.url(`/ws?ticket=${expiring}`)), invalidToken, 'expired after 30 s')
    await ticketStillServes(t, fx)

    const unknown = Buffer.alloc(32, 7).toString('base64url')
    assertRefused(t, await refused(fx.url(`/ws?ticket=${unknown}`)), invalidToken, 'unknown')
    for (const bad of ['short', `${unknown}A`, `${unknown.slice(0, 42)}=`, `${unknown.slice(0, 42)}.`]) {
      assertRefused(t, await refused(fx.url(`/ws?ticket=${encodeURIComponent(bad)}`)), malformed, `malformed ${bad.length} chars`)
    }
    assertRefused(t, await refused(fx.url('/ws'), { protocols: ['echo.v1', 'wsauth.ticket.'] }), malformed, 'an empty ticket subprotocol')
    assertRefused(t, await refused(fx.url('/ws?ticket=')), { status: 401, wwwAuthenticate: 'Bearer realm="wsauth"' },
      'an empty ?ticket= is no credential')
    await ticketStillServes(t, fx)
    await stillServes(t, fx)
  })

  t.test(`${label}: two tickets in one handshake are 400, and neither is spent`, async (t) => {
    const fx = await buildTicketApp(t, { subprotocolToken: withSubprotocolToken })
    const a = await mint(fx, fx.token('alice'))
    const b = await mint(fx, fx.token('alice'))
    assertRefused(t, await refused(fx.url(`/ws?ticket=${a}&ticket=${b}`)), malformed, 'two ?ticket=')
    assertRefused(t, await refused(fx.url('/ws'), { protocols: ['echo.v1', `wsauth.ticket.${a}`, `wsauth.ticket.${b}`] }), malformed,
      'two subprotocols')
    assertRefused(t, await refused(fx.url(`/ws?ticket=${a}`), { protocols: ticketProtocols(b) }), malformed, 'one of each')
    assertRefused(t, await refused(fx.url('/ws'), { protocols: [`wsauth.ticket.${a}`] }), malformed,
      'a ticket subprotocol with no application protocol to echo')
    const { socket } = await opened(fx.url(`/ws?ticket=${a}`))
    t.equal(await nextMessage(socket), 'Welcome alice!', 'the refused handshakes spent nothing')
    socket.close()
    await stillServes(t, fx)
  })
  t.test(`${label}: an offer the 101 could not complete is 400 before the ticket is spent`, async (t) => {
    const fx = await buildTicketApp(t, { subprotocolToken: withSubprotocolToken })
    const ticket = await mint(fx, fx.token('alice'))
    for (const offer of ['echo.v1, echo.v1', 'echo.v1, bad{}']) {
      for (const [path, header] of [[`/ws?ticket=${ticket}`, offer], ['/ws', `${offer}, wsauth.ticket.${ticket}`]] as const) {
        const raw = await rawHandshake(fx.port, path, [`Sec-WebSocket-Protocol: ${header}`])
        t.equal(raw.status, 400, `${path.includes('?') ? 'query' : 'subprotocol'} ticket with ${offer}: 400 (ws refuses the offer)`)
      }
    }
    if (withSubprotocolToken) {
      // The route supports echo.v1 only: a 101 would echo nothing, and the client that offered chat.v2 fails it.
      assertRefused(t, await refused(fx.url('/ws'), { protocols: ['chat.v2', `wsauth.ticket.${ticket}`] }), malformed,
        'a ticket subprotocol next to an unsupported protocol')
      assertRefused(t, await refused(fx.url(`/ws?ticket=${ticket}`), { protocols: ['chat.v2'] }), malformed,
        'a query ticket with only an unsupported protocol offered')
    }
    const { socket } = await opened(fx.url(`/ws?ticket=${ticket}`))
    t.equal(await nextMessage(socket), 'Welcome alice!', 'the refused handshakes spent nothing')
    socket.close()
    await stillServes(t, fx)
  })
}

t.test('close mode: 4401, 4403, 4400', async (t) => {
  const fx = await buildTicketApp(t)
  const ticket = await mint(fx, fx.token('alice'))
  const ok = await opened(fx.url(`/close-mode?ticket=${ticket}`))
  t.equal(await nextMessage(ok.socket), 'Welcome alice!')
  ok.socket.close()
  t.strictSame(await closedOnOpen(fx.url(`/close-mode?ticket=${ticket}`)), { code: 4401, reason: 'invalid token' }, 'second use')
  const pageTicket = await mint(fx, fx.token('alice'), ALLOWED_ORIGIN)
  t.strictSame(await closedOnOpen(fx.url(`/close-mode?ticket=${pageTicket}`)), { code: 4403, reason: 'forbidden' },
    'a page\'s ticket without its Origin')
  t.strictSame(await closedOnOpen(fx.url('/close-mode?ticket=x&ticket=y')), { code: 4400, reason: 'bad request' }, 'two tickets')
  await ticketStillServes(t, fx)
})

t.test('Origin: a ticket is redeemed only from the Origin that minted it', async (t) => {
  const other = 'http://localhost:9000'
  const fx = await buildTicketApp(t, { guard: { origins: [ALLOWED_ORIGIN, other] } })
  const page = await mint(fx, fx.token('alice'), ALLOWED_ORIGIN)
  assertRefused(t, await refused(fx.url(`/ws?ticket=${page}`), { origin: other }), { status: 403 }, 'another allowed Origin')
  assertRefused(t, await refused(fx.url(`/ws?ticket=${page}`), { origin: ALLOWED_ORIGIN }), invalidToken,
    'spent by the refusal: the right Origin is too late')
  const again = await mint(fx, fx.token('alice'), ALLOWED_ORIGIN)
  assertRefused(t, await refused(fx.url(`/ws?ticket=${again}`)), { status: 403 }, 'no Origin (a machine with a page\'s ticket)')
  const machine = await mint(fx, fx.token('svc'))
  assertRefused(t, await refused(fx.url(`/ws?ticket=${machine}`), { origin: ALLOWED_ORIGIN }), { status: 403 },
    'a machine\'s ticket presented by a page')
  assertRefused(t, await refused(fx.url(`/ws?ticket=${await mint(fx, fx.token('alice'), ALLOWED_ORIGIN)}`), { origin: 'http://evil.test' }),
    { status: 403 }, 'an Origin off the allowlist')

  const good = await opened(fx.url(`/ws?ticket=${await mint(fx, fx.token('alice'), ALLOWED_ORIGIN)}`), { origin: ALLOWED_ORIGIN })
  t.equal(await nextMessage(good.socket), 'Welcome alice!', 'the page, from its own Origin')
  good.socket.close()
  const machineGood = await opened(fx.url(`/ws?ticket=${await mint(fx, fx.token('svc'))}`))
  t.equal(await nextMessage(machineGood.socket), 'Welcome svc!', 'a machine, with none')
  machineGood.socket.close()
  await stillServes(t, fx)
})

t.test('a ticket yields to the credentials before it in precedence, and is left unspent', async (t) => {
  const fx = await buildTicketApp(t)
  const ticket = await mint(fx, fx.token('alice'))
  const withBearer = await opened(fx.url(`/ws?ticket=${ticket}`), bearer(fx.token('bob')))
  t.equal(await nextMessage(withBearer.socket), 'Welcome bob!', 'Authorization first')
  withBearer.socket.close()
  const { socket } = await opened(fx.url(`/ws?ticket=${ticket}`))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  socket.close()
})

t.test('an upgrade by HEAD (which never upgrades) leaves the ticket unspent', async (t) => {
  const fx = await buildTicketApp(t)
  const ticket = await mint(fx, fx.token('alice'))
  t.equal((await rawHandshake(fx.port, `/ws?ticket=${ticket}`, [], 'HEAD')).status, 404, 'HEAD upgrade: 404')
  t.equal((await rawHandshake(fx.port, '/ws', [`Sec-WebSocket-Protocol: ${ticketProtocols(ticket).join(', ')}`], 'HEAD')).status, 404,
    'HEAD upgrade with the ticket as a subprotocol: 404')
  const { socket } = await opened(fx.url(`/ws?ticket=${ticket}`))
  t.equal(await nextMessage(socket), 'Welcome alice!', 'the ticket still opens its socket')
  socket.close()
  await ticketStillServes(t, fx)
})
