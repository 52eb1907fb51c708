// A ticket socket is the token's socket: revocation, disconnect and the token's exp close it. Exactly one winner among
// concurrent redemptions. No ticket in any log line. The discovery document lists the endpoint and the transport.
import t from 'tap'
import { redactingLoggerOptions, type DiscoveryDocument } from '@wsauth/core'
import { closed, connect, logCollector, nextMessage, opened, stillServes } from '../../../test/helpers/index.ts'
import { discoveryErrors } from '../../../test/helpers/discovery.ts'
import { ALLOWED_ORIGIN, buildTicketApp, mint, send, ticketProtocols, ticketStillServes } from './fixture.ts'

function claims (token: string): { jti: string, exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string, exp: number }
}

t.test('revoking the token closes its ticket sockets with 4401; disconnect(subject) too', async (t) => {
  const fx = await buildTicketApp(t, { subprotocolToken: true })
  const token = fx.token('alice')
  const byQuery = await opened(fx.url(`/ws?ticket=${await mint(fx, token)}`))
  const bySubprotocol = await opened(fx.url('/ws'), { protocols: ticketProtocols(await mint(fx, token)) })
  t.equal(await nextMessage(byQuery.socket), 'Welcome alice!')
  t.equal(await nextMessage(bySubprotocol.socket), 'Welcome alice!')
  const unspent = await mint(fx, token)
  const { jti, exp } = claims(token)
  const both = Promise.all([closed(byQuery.socket), closed(bySubprotocol.socket)])
  t.equal(await fx.app.wsAuth.revokeToken(jti, exp * 1000), 2, 'both sockets closed')
  t.strictSame(await both, [{ code: 4401, reason: 'token revoked' }, { code: 4401, reason: 'token revoked' }])
  t.equal((await connect(fx.url(`/ws?ticket=${unspent}`)) as { status: number }).status, 401,
    'a ticket minted before the revocation is refused: the denylist applies at redemption')

  const bob = await opened(fx.url(`/ws?ticket=${await mint(fx, fx.token('bob'))}`))
  t.equal(await nextMessage(bob.socket), 'Welcome bob!')
  const bobClosed = closed(bob.socket)
  t.equal(fx.app.wsAuth.disconnect('bob'), 1)
  t.strictSame(await bobClosed, { code: 4401, reason: 'token revoked' })
  await ticketStillServes(t, fx)
})

t.test('the token\'s exp closes a ticket socket: 4401 token expired', async (t) => {
  const fx = await buildTicketApp(t)
  const token = fx.token('alice')
  const { socket } = await opened(fx.url(`/ws?ticket=${await mint(fx, token)}`))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  const done = closed(socket)
  // Past the token's exp on the guard's clock: its next sweep closes the socket.
  fx.advance(claims(token).exp * 1000 - fx.now() + 1)
  t.strictSame(await done, { code: 4401, reason: 'token expired' })
})

t.test('100 concurrent redemptions of one ticket: exactly one 101, 99 × 401, no 5xx', async (t) => {
  const fx = await buildTicketApp(t)
  const ticket = await mint(fx, fx.token('alice'))
  const results = await Promise.all(Array.from({ length: 100 }, () => connect(fx.url(`/ws?ticket=${ticket}`))))
  const statuses = results.map((result) => result.kind === 'opened' ? 101 : result.status)
  t.equal(statuses.filter((status) => status === 101).length, 1, 'one winner')
  t.equal(statuses.filter((status) => status === 401).length, 99, 'everyone else: 401')
  for (const result of results) if (result.kind === 'opened') result.socket.close()
  await stillServes(t, fx)
})

// The guard's request serializer covers its routes; a path that is no route gets Fastify's 404 logger, which only
// core's redactingLoggerOptions in the constructor reaches (the guard's README says so).
for (const constructorRedaction of [false, true]) {
  t.test(`no ticket in any log line: neither ?ticket= nor the subprotocol${constructorRedaction ? ', nor a 404' : ''}`, async (t) => {
    const { stream, lines } = logCollector()
    const logger = { level: 'trace', stream, ...(constructorRedaction ? redactingLoggerOptions() : {}) }
    const fx = await buildTicketApp(t, { subprotocolToken: true, logger })
    const tickets: string[] = []
    const minted = async (): Promise<string> => {
      const ticket = await mint(fx, fx.token('alice'), ALLOWED_ORIGIN)
      tickets.push(ticket)
      return ticket
    }
    const byQuery = await opened(fx.url(`/ws?ticket=${await minted()}`), { origin: ALLOWED_ORIGIN })
    byQuery.socket.close()
    const bySubprotocol = await opened(fx.url('/ws'), { origin: ALLOWED_ORIGIN, protocols: ticketProtocols(await minted()) })
    bySubprotocol.socket.close()
    // Refused ones too: a second use, a wrong Origin, two at once.
    await connect(fx.url(`/ws?ticket=${tickets[0]}`), { origin: ALLOWED_ORIGIN })
    await connect(fx.url(`/ws?ticket=${await minted()}`))
    await connect(fx.url(`/ws?ticket=${tickets[1]}`), { protocols: ticketProtocols(await minted()) })
    if (constructorRedaction) await connect(fx.url(`/nowhere?ticket=${await minted()}`))
    await send(fx, 'POST', `/ws-ticket?ticket=${await minted()}`, { authorization: 'Bearer nope' })
    await stillServes(t, fx)
    await fx.app.close()
    t.ok(lines.length > 10, `the app logged (${lines.length} lines)`)
    t.ok(lines.some((line) => line.includes('ticket=') || line.includes('?[redacted]')), 'requests with tickets were logged')
    for (const ticket of tickets) {
      t.notOk(lines.some((line) => line.includes(ticket)), `ticket ${tickets.indexOf(ticket)} in no log line`)
    }
  })
}

t.test('the discovery document lists the endpoint and, on each route, the ticket transport; valid against the schema', async (t) => {
  const fx = await buildTicketApp(t)
  const document = JSON.parse((await send(fx, 'GET', '/.well-known/wsauth')).body) as DiscoveryDocument
  t.equal(document.endpoints.ticket, '/ws-ticket')
  const expected = { endpoint: '/ws-ticket', param: 'ticket', subprotocolPrefix: 'wsauth.ticket.' }
  for (const route of document.routes) t.strictSame(route.transports.ticket, expected, `${route.path}: ticket`)
  t.strictSame(discoveryErrors(document), [])
})
