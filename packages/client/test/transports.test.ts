// The client in Node (the ws package) against a real wsauth server: the transport it picks from the discovery
// document, the ones an app can force, and the send queue held until the server has accepted the credential.
import t from 'tap'
import WebSocket from 'ws'
import { connect, type TransportName, type WsAuthClient, type WsAuthCloseEvent } from '@wsauth/client'
import { ManualTimers, messages, nextEvent, reaches, startServer, tokenSource, fixtureDiscovery } from './fixture.ts'
import { discoveryErrors } from '../../../test/helpers/discovery.ts'

t.test("the fixture's discovery document is valid against core's schema", async (t) => {
  t.strictSame(discoveryErrors(fixtureDiscovery()), [])
})

t.test('ws can be passed as the WebSocket constructor', async (t) => {
  const server = await startServer(t)
  const client: WsAuthClient = connect(server.url('/ws'), { ...tokenSource(server), WebSocket })
  t.teardown(() => client.close())
  t.equal(client.state, 'connecting')
  await reaches(client, 'open')
})

t.test('Node picks the Authorization header; an app can force another transport', async (t) => {
  const server = await startServer(t)
  const cases: Array<[string, TransportName | undefined, string, string]> = [
    ['/ws', undefined, 'bearer', 'echo.v1'],
    ['/ws', 'subprotocol', 'subprotocol', 'echo.v1'],
    ['/ws', 'query', 'query', 'echo.v1'],
    ['/fm', 'first-message', 'first-message', ''],
    ['/fm', 'subprotocol', 'subprotocol', 'v1.token.websocket.jupyter.org'],
  ]
  for (const [path, forced, transport, protocol] of cases) {
    const client = connect(server.url(path), { ...tokenSource(server), WebSocket, transport: forced })
    const welcome = messages(client, 1)
    await reaches(client, 'open')
    t.equal(client.transport, transport, `${path}, ${forced ?? 'chosen'}: ${transport}`)
    t.equal(client.protocol, protocol, 'the server chose an application protocol, never the token')
    t.strictSame(await welcome, [`Welcome alice via ${transport}!`], 'the server saw that transport')
    const echo = messages(client, 1)
    client.send('hi')
    t.strictSame(await echo, ['You wrote: hi'])
    client.close()
  }
})

t.test('without headers, the order is ticket, subprotocol, first message (the cookie needs a page)', async (t) => {
  const server = await startServer(t)
  // A WebSocket constructor that takes no headers, as a browser's: the ws package behind a two-argument signature.
  const Headerless = function (url: string, protocols: string[]) { return new WebSocket(url, protocols) }
  const global = globalThis as { WebSocket?: unknown }
  global.WebSocket = Headerless
  t.teardown(() => { delete global.WebSocket })
  for (const [path, transport] of [['/ws', 'subprotocol'], ['/fm', 'subprotocol'], ['/plain', 'subprotocol']] as const) {
    const client = connect(server.url(path), tokenSource(server))
    await reaches(client, 'open')
    t.equal(client.transport, transport, path)
    client.close()
  }
  const onlyFirstMessage = fixtureDiscovery()
  onlyFirstMessage.routes = onlyFirstMessage.routes.map((route) => ({ ...route, transports: { bearer: {} } }))
  const client = connect(server.url('/fm'), { ...tokenSource(server), discovery: onlyFirstMessage })
  await reaches(client, 'open')
  t.equal(client.transport, 'first-message', 'a route without subprotocol: the first message')
  client.close()
})

t.test('first message: nothing is sent before auth.ok, and the app never sees the protocol', async (t) => {
  const server = await startServer(t)
  const client = connect(server.url('/fm'), { ...tokenSource(server), WebSocket, transport: 'first-message' })
  const states: string[] = []
  client.addEventListener('state', (event) => states.push(event.state))
  const seen = messages(client, 3)
  client.send('one')
  client.send('two')
  await reaches(client, 'open')
  t.strictSame(states, ['authenticating', 'open'], 'authenticating until auth.ok')
  t.strictSame(await seen, ['Welcome alice via first-message!', 'You wrote: one', 'You wrote: two'], 'no auth.ok among them')
  t.strictSame(server.received, ['/fm one', '/fm two'], 'queued messages reached the app in order, after authentication')
  client.close()
})

t.test('close mode: confirmed by the server\'s first message, then the queue goes out', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const client = connect(server.url('/close'), { ...tokenSource(server), WebSocket, timers, confirmMs: 1234 })
  const states: string[] = []
  client.addEventListener('state', (event) => states.push(event.state))
  const seen = messages(client, 2)
  client.send('queued')
  t.strictSame(await seen, ['Welcome alice via bearer!', 'You wrote: queued'])
  t.strictSame(states, ['authenticating', 'open'])
  t.notOk(timers.delays.includes(1234), 'the welcome confirmed it: the confirmation timer is gone')
  client.close()
})

t.test('close mode without a greeting: confirmed after confirmMs', async (t) => {
  const server = await startServer(t)
  const timers = new ManualTimers()
  const client = connect(server.url('/quiet'), { ...tokenSource(server), WebSocket, timers, confirmMs: 1234 })
  client.send('held')
  await reaches(client, 'authenticating')
  t.strictSame(server.received, [], 'nothing sent while a refusal could still come')
  const echo = messages(client, 1)
  timers.fire(1234)
  t.equal(client.state, 'open')
  t.strictSame(await echo, ['You wrote: held'])
  t.strictSame(server.received, ['/quiet held'])
  client.close()
})

t.test('the send queue: bounded, in order, and refused once closed', async (t) => {
  const server = await startServer(t)
  const client = connect(server.url('/ws'), { ...tokenSource(server), WebSocket, queueLimit: 2 })
  client.send('a')
  client.send('b')
  t.throws(() => client.send('c'), { name: 'WsAuthClientError', code: 'queue-full', message: '2 messages are already waiting' })
  const seen = messages(client, 3)
  await reaches(client, 'open')
  t.strictSame(await seen, ['Welcome alice via bearer!', 'You wrote: a', 'You wrote: b'])
  const closed = nextEvent<WsAuthCloseEvent>(client, 'close')
  client.close(1000, 'bye')
  t.match(await closed, { code: 1000, reason: 'client', serverReason: 'bye' })
  t.equal(client.state, 'closed')
  t.throws(() => client.send('late'), { code: 'closed' })
  client.close()
  t.equal(client.state, 'closed', 'closing twice is fine')
})

t.test('close() while connecting drops the queue and opens nothing', async (t) => {
  const server = await startServer(t)
  const client = connect(server.url('/ws'), { ...tokenSource(server), WebSocket })
  client.send('never')
  const closed = nextEvent<WsAuthCloseEvent>(client, 'close')
  client.close()
  t.match(await closed, { code: 1000, reason: 'client' })
  // A second client proves the server served on and received nothing from the first.
  const probe = connect(server.url('/ws'), { ...tokenSource(server), WebSocket })
  const echo = messages(probe, 2)
  probe.send('probe')
  t.strictSame((await echo)[1], 'You wrote: probe')
  t.strictSame(server.received, ['/ws probe'])
  probe.close()
})

t.test('a route pattern matches its paths', async (t) => {
  const server = await startServer(t)
  const client = connect(server.url('/rooms/blue'), { ...tokenSource(server), WebSocket })
  const welcome = messages(client, 1)
  t.strictSame(await welcome, ['Welcome alice via bearer!'])
  client.close()
})
