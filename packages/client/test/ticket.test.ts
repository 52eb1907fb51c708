// The client's ticket path in Node, against a real server with @wsauth/ticket over TCP: the ticket endpoint found in the
// discovery document (paid for with getToken's token), and an app's own getTicket. Either is asked again for every
// attempt: a ticket is single use, so a 4401 on a live socket means a fresh token and a fresh ticket.
import t from 'tap'
import WebSocket from 'ws'
import { connect, type TokenReason, type WsAuthCloseEvent } from '@wsauth/client'
import { ManualTimers, fixtureDiscovery, messages, nextEvent, reaches, startServer, tokenSource } from './fixture.ts'
import { discoveryErrors } from '../../../test/helpers/discovery.ts'

// A WebSocket constructor that takes no headers, as a browser's: the ws package behind a two-argument signature.
function headerless (t: { teardown (fn: () => void): void }): void {
  const global = globalThis as { WebSocket?: unknown }
  global.WebSocket = function Headerless (url: string, protocols: string[]) { return new WebSocket(url, protocols) }
  t.teardown(() => { delete global.WebSocket })
}

t.test('the guard\'s document lists the ticket on every route, valid against the schema', async (t) => {
  const server = await startServer(t, { ticket: true })
  const document = await (await fetch(`http://127.0.0.1:${server.port}/.well-known/wsauth`)).json()
  t.strictSame(document, fixtureDiscovery(false, true))
  t.strictSame(discoveryErrors(document), [])
})

t.test('the discovered endpoint: without headers the client picks the ticket, and buys a new one for every attempt', async (t) => {
  headerless(t)
  const server = await startServer(t, { ticket: true })
  const source = tokenSource(server)
  const client = connect(server.url('/ws'), { ...source, timers: new ManualTimers() })
  t.teardown(() => client.close())
  t.strictSame(await messages(client, 1), ['Welcome alice via ticket!'])
  t.equal(client.transport, 'ticket', 'ticket before subprotocol')
  const back = messages(client, 1)
  t.equal(server.app.wsAuth.disconnect('alice'), 1, '4401 on the live socket')
  t.strictSame(await back, ['Welcome alice via ticket!'])
  t.strictSame(source.reasons, ['connect', 'unauthorized'], 'exactly one more token, for one more ticket')
  t.equal(server.handshakes, 2)
})

t.test('getTicket: the app\'s tickets, for every attempt; getToken is not asked', async (t) => {
  const server = await startServer(t, { ticket: true })
  const source = tokenSource(server)
  const ticketReasons: TokenReason[] = []
  // The app mints its tickets itself, here with a token of its own (another user's, to show whose ticket is used).
  const getTicket = async ({ reason }: { reason: TokenReason }): Promise<string> => {
    ticketReasons.push(reason)
    const response = await fetch(`http://127.0.0.1:${server.port}/ws-ticket`, {
      method: 'POST', headers: { authorization: `Bearer ${server.sign('bob')}` },
    })
    return (await response.json() as { ticket: string }).ticket
  }
  const client = connect(server.url('/ws'), { ...source, getTicket, WebSocket, transport: 'ticket', timers: new ManualTimers() })
  t.teardown(() => client.close())
  t.strictSame(await messages(client, 1), ['Welcome bob via ticket!'])
  const back = messages(client, 1)
  t.equal(server.app.wsAuth.disconnect('bob'), 1)
  t.strictSame(await back, ['Welcome bob via ticket!'])
  t.strictSame(ticketReasons, ['connect', 'unauthorized'], 'a fresh ticket after the 4401')
  t.strictSame(source.reasons, [], 'getToken not asked')
})

t.test('getTicket answering a spent ticket: refused (4401), one immediate retry, then backoff; no loop', async (t) => {
  const server = await startServer(t, { ticket: true })
  const timers = new ManualTimers()
  let ticket: string | null = null
  const getTicket = async (): Promise<string> => {
    ticket ??= (await (await fetch(`http://127.0.0.1:${server.port}/ws-ticket`, {
      method: 'POST', headers: { authorization: `Bearer ${server.sign('alice')}` },
    })).json() as { ticket: string }).ticket
    return ticket
  }
  const client = connect(server.url('/ws'), { getToken: () => null, getTicket, WebSocket, transport: 'ticket', timers, random: () => 1 })
  t.teardown(() => client.close())
  await reaches(client, 'open')
  server.app.wsAuth.disconnect('alice')
  await reaches(client, 'reconnecting')
  t.ok(timers.delays.includes(500), 'the server refused the spent ticket (4401 again): now a backoff wait')
  t.equal(server.handshakes, 2, 'the first socket, then the one immediate retry with the spent ticket')
  const closed = nextEvent<WsAuthCloseEvent>(client, 'close')
  client.close()
  t.match(await closed, { reason: 'client' })
})
