// The discovery document: read from the server (or given), and a clear error instead of a hang when it is missing,
// malformed or slow. Real servers over TCP; the request timeout runs on ManualTimers.
import t from 'tap'
import WebSocket from 'ws'
import { connect, type ConnectOptions, type WsAuthCloseEvent, type WsAuthErrorEvent } from '@wsauth/client'
import { ManualTimers, fixtureDiscovery, nextEvent, reaches, startServer, tokenSource } from './fixture.ts'

/** Connects to `path` and resolves the first error and the close (when it closes for good). */
async function failure (url: string, options: Omit<ConnectOptions, 'getToken'> & Partial<ConnectOptions>): Promise<{ error: WsAuthErrorEvent, close: WsAuthCloseEvent }> {
  let calls = 0
  const client = connect(url, { WebSocket, getToken: () => { calls++; return 'unused' }, ...options })
  const error = nextEvent<WsAuthErrorEvent>(client, 'error')
  const close = nextEvent<WsAuthCloseEvent>(client, 'close')
  const result = { error: await error, close: await close }
  if (calls !== 0) throw new Error('getToken was called')
  return result
}

t.test('missing or malformed: closed at once as `discovery`, with an error naming the URL', async (t) => {
  const cases: Array<[string, unknown, string]> = [
    ['no document (404)', null, ' answered 404'],
    ['not JSON', '{"wsauth": 1,', ': not JSON'],
    ['another version', { ...fixtureDiscovery(), wsauth: 2 }, ': not a wsauth discovery document of version 1'],
    ['routes not a list', { ...fixtureDiscovery(), routes: {} }, ': not a wsauth discovery document of version 1'],
    ['a route without transports', { ...fixtureDiscovery(), routes: [{ path: '/ws', protocols: [] }] }, ': not a wsauth discovery document of version 1'],
    ['inBand without messages', { ...fixtureDiscovery(), inBand: { timeoutMs: 1 } }, ': not a wsauth discovery document of version 1'],
    ['a JSON string', '"hello"', ': not a wsauth discovery document of version 1'],
  ]
  for (const [name, discovery, problem] of cases) {
    const server = await startServer(t, { discovery })
    const timers = new ManualTimers()
    const { error, close } = await failure(server.url('/ws'), { timers })
    const url = `http://127.0.0.1:${server.port}/.well-known/wsauth`
    t.match(error.error, { name: 'WsAuthClientError', code: 'discovery', message: url + problem }, name)
    t.match(close, { reason: 'discovery', code: 1006 })
    t.strictSame(timers.delays, [], 'nothing left to retry')
    t.equal(server.handshakes, 0, 'no handshake was tried')
  }
})

t.test('slow, down or failing: reported, then retried with backoff', async (t) => {
  await t.test('no answer within requestTimeoutMs', async (t) => {
    const server = await startServer(t, { discovery: 'hang' })
    const timers = new ManualTimers()
    const client = connect(server.url('/ws'), { ...tokenSource(server), WebSocket, timers, requestTimeoutMs: 4321, random: () => 1 })
    const error = nextEvent<WsAuthErrorEvent>(client, 'error')
    await new Promise((resolve) => setImmediate(resolve))
    while (!timers.delays.includes(4321)) await new Promise((resolve) => setImmediate(resolve))
    timers.fire(4321)
    t.match((await error).error, { code: 'unreachable', message: `http://127.0.0.1:${server.port}/.well-known/wsauth: no answer within 4321 ms` })
    await reaches(client, 'reconnecting')
    t.ok(timers.delays.includes(500), 'a backoff wait')
    client.close()
  })

  await t.test('a 503', async (t) => {
    const server = await startServer(t, { discovery: (_request: unknown, reply: { code (n: number): { send (): void } }) => reply.code(503).send() })
    const client = connect(server.url('/ws'), { ...tokenSource(server), WebSocket, timers: new ManualTimers() })
    t.match((await nextEvent<WsAuthErrorEvent>(client, 'error')).error, { code: 'unreachable', message: /wsauth answered 503$/ })
    await reaches(client, 'reconnecting')
    client.close()
  })

  await t.test('nothing listens', async (t) => {
    const server = await startServer(t)
    const url = server.url('/ws')
    await server.close()
    const client = connect(url, { ...tokenSource(server), WebSocket, timers: new ManualTimers() })
    t.match((await nextEvent<WsAuthErrorEvent>(client, 'error')).error, {
      code: 'unreachable', message: `http://127.0.0.1:${server.port}/.well-known/wsauth: fetch failed (ECONNREFUSED)`,
    })
    await reaches(client, 'reconnecting')
    client.close()
  })
})

t.test('the document at another path, or given as is', async (t) => {
  const server = await startServer(t, { discovery: null })
  const other = await startServer(t)
  for (const discovery of [`http://127.0.0.1:${other.port}/.well-known/wsauth`, new URL(`http://127.0.0.1:${other.port}/.well-known/wsauth`), fixtureDiscovery()]) {
    const client = connect(server.url('/ws'), { ...tokenSource(server), WebSocket, discovery })
    await reaches(client, 'open')
    client.close()
  }
  t.equal(server.handshakes, 3)
})

t.test('no route or no usable transport: closed as `unsupported`', async (t) => {
  const server = await startServer(t)
  const cases: Array<[string, Partial<ConnectOptions>, string]> = [
    ['/nowhere', {}, `ws://127.0.0.1:${server.port}/nowhere: no guarded route for it in the discovery document`],
    ['/ws', { transport: 'cookie' }, '/ws: no usable transport (cookie)'],
    ['/ws', { transport: 'ticket' }, '/ws: no usable transport (ticket)'],
    ['/ws', { transport: 'first-message' }, '/ws: no usable transport (first-message)'],
    ['/plain', { discovery: { ...fixtureDiscovery(), routes: [{ ...fixtureDiscovery().routes[1]!, transports: {} }] } }, '/plain: no usable transport (any)'],
  ]
  for (const [path, options, message] of cases) {
    const { error, close } = await failure(server.url(path), options)
    t.match(error.error, { code: 'unsupported', message }, message)
    t.match(close, { reason: 'unsupported' })
  }
  t.equal(server.handshakes, 0)
})

t.test('options the client cannot start with', async (t) => {
  t.throws(() => connect('ws://127.0.0.1:1/ws', {} as ConnectOptions), new TypeError('@wsauth/client: getToken must be a function'))
  t.throws(() => connect('ws://127.0.0.1:1/ws', { getToken: () => 'x' }),
    new TypeError('@wsauth/client: no global WebSocket; pass one (the ws package) as `WebSocket`'))
})
