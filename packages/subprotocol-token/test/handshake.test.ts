// Good handshakes with a token in Sec-WebSocket-Protocol, over real TCP: every format in both orders, the exact 101
// bytes (one application protocol echoed, never the token), what the app sees, the JEP 121 marker, route declarations,
// precedence against the Authorization header, and the plugin's startup checks.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import wsBearer from '@wsauth/ws-bearer'
import subprotocolToken, { JUPYTER_MARKER, TOKEN_PREFIXES, tokenSubprotocol } from '@wsauth/subprotocol-token'
import { closed, nextMessage, opened, rawHandshake } from '../../../test/helpers/ws.ts'
import { FORMATS, SECRET, build, protocolLines, seenOver, stillServes } from './fixture.ts'

const PREFIXES = Object.values(TOKEN_PREFIXES)

/** No form of `token` and no token prefix anywhere in `text`. */
function assertNoToken (t: Test, text: string, token: string, name: string): void {
  for (const format of FORMATS) {
    t.notOk(text.includes(tokenSubprotocol(token, format).slice(TOKEN_PREFIXES[format].length)), `${name}: no ${format}-encoded token`)
  }
  t.notOk(text.includes(token), `${name}: no token`)
  for (const prefix of PREFIXES) t.notOk(text.includes(prefix), `${name}: no ${prefix}`)
}

t.test('every format, token first and token last', async (t) => {
  const fx = await build(t)
  for (const format of FORMATS) {
    for (const order of ['token last', 'token first'] as const) {
      t.test(`${format}, ${order}`, async (t) => {
        const token = fx.sign({ sub: `${format}-user` })
        const tokenProtocol = tokenSubprotocol(token, format)
        const protocols = order === 'token last' ? ['echo.v1', tokenProtocol] : [tokenProtocol, 'echo.v1']

        const { socket, protocol, headers } = await opened(fx.url(), { protocols })
        t.equal(protocol, 'echo.v1', 'the application protocol is echoed')
        t.equal(headers['sec-websocket-protocol'], 'echo.v1')
        t.equal(await nextMessage(socket), `Welcome ${format}-user!`)
        socket.send('hello')
        t.equal(await nextMessage(socket), 'You wrote: hello')
        const done = closed(socket)
        socket.close(1000)
        await done

        const raw = await rawHandshake(fx.port, '/ws', [`Sec-WebSocket-Protocol: ${protocols.join(', ')}`])
        t.equal(raw.status, 101)
        t.strictSame(protocolLines(raw.head), ['Sec-WebSocket-Protocol: echo.v1'], 'the 101 names exactly one protocol')
        assertNoToken(t, raw.head, token, 'raw 101')

        const seen = await seenOver(fx.url('/seen'), protocols)
        t.strictSame(seen, {
          header: 'echo.v1', rawLines: ['echo.v1'], protocol: 'echo.v1', subject: `${format}-user`, transport: 'subprotocol',
        }, 'the app sees the identity and the application protocol, not the token')
      })
    }
  }
})

t.test('what the app sees: token protocols are gone from headers and rawHeaders, on every line', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'alice' })
  const tokenProtocol = tokenSubprotocol(token, 'kubernetes')
  // Two header lines: ws joins them, the app's rawHeaders keeps them apart.
  const raw = await rawHandshake(fx.port, '/seen', ['Sec-WebSocket-Protocol: chat.v2', `Sec-WebSocket-Protocol: ${tokenProtocol}, echo.v1`])
  t.equal(raw.status, 101)
  t.strictSame(protocolLines(raw.head), ['Sec-WebSocket-Protocol: echo.v1'], 'the first supported offer, across lines')
  assertNoToken(t, raw.head, token, 'raw 101')

  const lineOfItsOwn = await rawHandshake(fx.port, '/seen', ['Sec-WebSocket-Protocol: echo.v1', `Sec-WebSocket-Protocol: ${tokenProtocol}`])
  t.equal(lineOfItsOwn.status, 101, 'a token on a line of its own')

  const { socket } = await opened(fx.url('/seen'), { protocols: ['chat.v2', tokenProtocol, 'echo.v1'] })
  const seen = JSON.parse(await nextMessage(socket)) as { header: string, rawLines: string[], protocol: string }
  t.equal(seen.header, 'chat.v2, echo.v1')
  t.strictSame(seen.rawLines, ['chat.v2, echo.v1'])
  t.equal(seen.protocol, 'echo.v1')
  socket.close()
  await stillServes(t, fx)
})

t.test('protocol selection follows the client\'s order among the route\'s protocols', async (t) => {
  const fx = await build(t)
  const token = tokenSubprotocol(fx.sign({ sub: 'alice' }), 'wsauth')
  t.equal((await seenOver(fx.url('/multi'), ['echo.v1', 'chat.v2', token])).protocol, 'echo.v1')
  t.equal((await seenOver(fx.url('/multi'), ['chat.v2', 'echo.v1', token])).protocol, 'chat.v2')
  t.equal((await seenOver(fx.url('/multi'), ['unknown.v9', token, 'chat.v2'])).protocol, 'chat.v2', 'an unsupported offer is skipped')
  t.equal((await seenOver(fx.url('/seen'), ['chat.v2', 'echo.v1', token])).protocol, 'echo.v1', 'the plugin default: echo.v1 only')
})

t.test('a client that offers no protocol: no Sec-WebSocket-Protocol in the 101', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'alice' })
  const raw = await rawHandshake(fx.port, '/ws', [`Authorization: Bearer ${token}`])
  t.equal(raw.status, 101)
  t.strictSame(protocolLines(raw.head), [], 'no protocol header')
  const { socket, protocol } = await opened(fx.url(), { headers: { Authorization: `Bearer ${token}` } })
  t.equal(protocol, '')
  t.equal(await nextMessage(socket), 'Welcome alice!')
  socket.close()

  // RFC 6455 §4.2.2: offers the route does not speak are answered with no protocol at all.
  const unsupported = await rawHandshake(fx.port, '/ws', [`Authorization: Bearer ${token}`, 'Sec-WebSocket-Protocol: chat.v2, other'])
  t.equal(unsupported.status, 101)
  t.strictSame(protocolLines(unsupported.head), [], 'nothing the route speaks: no protocol header')
  const declaresNone = await rawHandshake(fx.port, '/none', [`Authorization: Bearer ${token}`, 'Sec-WebSocket-Protocol: echo.v1'])
  t.equal(declaresNone.status, 101)
  t.strictSame(protocolLines(declaresNone.head), [], 'a route that declares [] echoes nothing')
  await stillServes(t, fx)
})

t.test('the JEP 121 marker', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'jupyter-user' })
  const tokenProtocol = tokenSubprotocol(token, 'jupyter')

  t.test('with a JEP 121 token: the marker is echoed', async (t) => {
    for (const protocols of [[JUPYTER_MARKER, tokenProtocol], [tokenProtocol, JUPYTER_MARKER]]) {
      const { socket, protocol } = await opened(fx.url(), { protocols })
      t.equal(protocol, JUPYTER_MARKER)
      t.equal(await nextMessage(socket), 'Welcome jupyter-user!')
      socket.close()
      const raw = await rawHandshake(fx.port, '/ws', [`Sec-WebSocket-Protocol: ${protocols.join(', ')}`])
      t.strictSame(protocolLines(raw.head), [`Sec-WebSocket-Protocol: ${JUPYTER_MARKER}`])
      assertNoToken(t, raw.head, token, 'raw 101')
    }
    // On a route that declares nothing the marker is still the one to echo: it is not an application protocol.
    t.equal((await seenOver(fx.url('/none'), [JUPYTER_MARKER, tokenProtocol])).protocol, JUPYTER_MARKER)
  })

  t.test('an application protocol offered before the marker wins', async (t) => {
    t.equal((await seenOver(fx.url('/seen'), ['echo.v1', JUPYTER_MARKER, tokenProtocol])).protocol, 'echo.v1')
    t.equal((await seenOver(fx.url('/seen'), [JUPYTER_MARKER, 'echo.v1', tokenProtocol])).protocol, JUPYTER_MARKER)
  })

  t.test('without a JEP 121 token the marker is never echoed', async (t) => {
    const bearer = `Authorization: Bearer ${token}`
    const alone = await rawHandshake(fx.port, '/ws', [bearer, `Sec-WebSocket-Protocol: ${JUPYTER_MARKER}`])
    t.equal(alone.status, 101, 'authenticated by the Authorization header')
    t.strictSame(protocolLines(alone.head), [], 'the marker alone: no protocol')
    const withEcho = await rawHandshake(fx.port, '/ws', [bearer, `Sec-WebSocket-Protocol: ${JUPYTER_MARKER}, echo.v1`])
    t.strictSame(protocolLines(withEcho.head), ['Sec-WebSocket-Protocol: echo.v1'], 'the application protocol instead')
    // The Authorization header takes precedence, so the JEP 121 token next to it was not what was accepted.
    const tokenNotUsed = await rawHandshake(fx.port, '/ws', [bearer, `Sec-WebSocket-Protocol: ${JUPYTER_MARKER}, ${tokenProtocol}`])
    t.equal(tokenNotUsed.status, 101)
    t.strictSame(protocolLines(tokenNotUsed.head), [], 'a token offered but accepted another way: no marker')
    assertNoToken(t, tokenNotUsed.head, token, 'raw 101')
    const wsauthToken = await rawHandshake(fx.port, '/ws', [
      `Sec-WebSocket-Protocol: ${JUPYTER_MARKER}, echo.v1, ${tokenSubprotocol(token, 'wsauth')}`,
    ])
    t.strictSame(protocolLines(wsauthToken.head), ['Sec-WebSocket-Protocol: echo.v1'], 'a token in another format: no marker')
    await stillServes(t, fx)
  })
})

t.test('precedence: the Authorization header comes first, and the token protocol is taken out all the same', async (t) => {
  const fx = await build(t)
  const seen = await seenOver(fx.url('/seen'), ['echo.v1', tokenSubprotocol(fx.sign({ sub: 'by-protocol' }), 'wsauth')], {
    Authorization: `Bearer ${fx.sign({ sub: 'by-header' })}`,
  })
  t.strictSame(seen, { header: 'echo.v1', rawLines: ['echo.v1'], protocol: 'echo.v1', subject: 'by-header', transport: 'bearer' })
})

t.test('a route out of the guard: the token protocol is taken out and carries nothing', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'alice' })
  const seen = await seenOver(fx.url('/open-seen'), ['echo.v1', tokenSubprotocol(token, 'jupyter')])
  t.strictSame(seen, { header: 'echo.v1', rawLines: ['echo.v1'], protocol: 'echo.v1', subject: null, transport: null })
})

t.test('formats are switchable; a disabled format carries no credential but is still never echoed or seen', async (t) => {
  const fx = await build(t, { plugin: { protocols: ['echo.v1'], formats: { kubernetes: false, jupyter: false } } })
  const token = fx.sign({ sub: 'alice' })
  const raw = await rawHandshake(fx.port, '/ws', [`Sec-WebSocket-Protocol: ${tokenSubprotocol(token, 'kubernetes')}, echo.v1`])
  t.equal(raw.status, 401, 'a Kubernetes token is no credential here')
  const seen = await seenOver(fx.url('/seen'), [tokenSubprotocol(token, 'kubernetes'), 'echo.v1', tokenSubprotocol(token, 'wsauth')])
  t.strictSame(seen, { header: 'echo.v1', rawLines: ['echo.v1'], protocol: 'echo.v1', subject: 'alice', transport: 'subprotocol' },
    'the wsauth token is the only credential; the Kubernetes one is not a second one')
  const jupyter = await rawHandshake(fx.port, '/ws', [`Sec-WebSocket-Protocol: ${JUPYTER_MARKER}, ${tokenSubprotocol(token, 'jupyter')}`])
  t.equal(jupyter.status, 401, 'a JEP 121 token is no credential here')
  await stillServes(t, fx)
})

t.test('injectWS (no rawHeaders): the token protocol is read and taken out', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'injected' })
  let seen: Promise<string> | undefined
  const socket = await fx.app.injectWS('/seen', { headers: { 'sec-websocket-protocol': `echo.v1, ${tokenSubprotocol(token, 'wsauth')}` } }, {
    // The route sends at once: listen before the upgrade completes.
    onInit: (socket) => { seen = new Promise((resolve) => socket.once('message', (data) => resolve(String(data)))) },
  })
  t.strictSame(JSON.parse(await seen!), {
    header: 'echo.v1', rawLines: [], protocol: 'echo.v1', subject: 'injected', transport: 'subprotocol',
  })
  socket.terminate()
})

t.test('startup checks', async (t) => {
  async function app (websocketOptions: Record<string, unknown> = {}): Promise<ReturnType<typeof Fastify>> {
    const app = Fastify({ logger: false })
    t.teardown(() => app.close())
    await app.register(fastifyJwt, { secret: SECRET })
    await app.register(fastifyWebsocket, { options: websocketOptions })
    await app.register(wsBearer, {})
    return app
  }

  await t.rejects(async () => { await (await app({ handleProtocols: () => false })).register(subprotocolToken, {}) },
    /chooses the subprotocol itself/, 'an app\'s own handleProtocols is refused')
  const P = '@wsauth/subprotocol-token: option'
  const NO_TOKEN = `${P} "protocols" must be a list of subprotocol names that carry no token`
  for (const [options, message] of [
    [{ protocols: ['echo v1'] }, NO_TOKEN],
    [{ protocols: [`${TOKEN_PREFIXES.wsauth}abc`] }, NO_TOKEN],
    [{ protocols: [''] }, `${P} "protocols" must be an array of non-empty strings; got an array`],
    [{ protocols: 'echo.v1' }, `${P} "protocols" must be an array of non-empty strings; got a string`],
    [{ protocols: ['echo.v1', 'echo.v1'] }, `${P} "protocols" lists a protocol twice`],
    [{ protocols: [JUPYTER_MARKER] }, `${P} "protocols" must not list ${JUPYTER_MARKER}; it is echoed only for a JEP 121 token`],
    [{ protocol: ['echo.v1'] }, `${P} "protocol" is not an option of @wsauth/subprotocol-token`],
    [{ formats: ['wsauth'] }, `${P} "formats" must be an object; got an array`],
    [{ formats: { ws: false } }, `${P} "formats.ws" is not an option of @wsauth/subprotocol-token`],
    [{ formats: { jupyter: 'off' } }, `${P} "formats.jupyter" must be true or false; got a string`],
  ] as const) {
    await t.rejects(async () => { await (await app()).register(subprotocolToken, options as never) },
      { name: 'WsAuthOptionsError', message }, message)
  }
  const routeApp = await app()
  await routeApp.register(subprotocolToken, {})
  t.throws(() => routeApp.get('/bad', { websocket: true, config: { wsAuth: { protocols: ['a,b'] } } }, () => {}),
    /config\.wsAuth\.protocols of GET \/bad/)
  await t.rejects(async () => { await (await app()).register(subprotocolToken, {}).register(subprotocolToken, {}) },
    /already registered/, 'registered twice')
  await t.rejects(async () => {
    const app = Fastify({ logger: false })
    t.teardown(() => app.close())
    await app.register(fastifyWebsocket)
    await app.register(subprotocolToken, {})
  }, /ws-bearer/, 'the guard is required')
})

t.test('registered inside one plugin: routes outside its scope echo no protocol at all', async (t) => {
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  await app.register(wsBearer, {})
  await app.register(async (scope) => {
    await scope.register(subprotocolToken, { protocols: ['echo.v1'] })
    scope.get('/inside', { websocket: true }, (socket) => { socket.send('inside') })
  })
  app.get('/outside', { websocket: true }, (socket) => { socket.send('outside') })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const token = (app as unknown as { jwt: { sign (payload: object): string } }).jwt.sign({ sub: 'alice' })
  const lines = [`Authorization: Bearer ${token}`, `Sec-WebSocket-Protocol: ${tokenSubprotocol(token, 'wsauth')}, echo.v1`]
  const inside = await rawHandshake(port, '/inside', lines)
  t.strictSame(protocolLines(inside.head), ['Sec-WebSocket-Protocol: echo.v1'])
  // Outside, this plugin's hook never ran, so nothing is known to be safe to echo: not even ws's first offer (a token).
  const outside = await rawHandshake(port, '/outside', lines)
  t.equal(outside.status, 101)
  t.strictSame(protocolLines(outside.head), [])
})

t.test('a server that never echoes a token to a protocol-less route', async (t) => {
  const fx = await build(t, { plugin: {} })
  const token = fx.sign({ sub: 'alice' })
  // No protocol declared anywhere: ws would have echoed the first offer, the plugin echoes nothing.
  const raw = await rawHandshake(fx.port, '/ws', [`Authorization: Bearer ${token}`, `Sec-WebSocket-Protocol: ${tokenSubprotocol(token, 'wsauth')}, echo.v1`])
  t.equal(raw.status, 101)
  t.strictSame(protocolLines(raw.head), [])
  assertNoToken(t, raw.head, token, 'raw 101')
  const { socket } = await opened(fx.url(), { headers: { Authorization: `Bearer ${token}` } })
  t.equal(await nextMessage(socket), 'Welcome alice!')
  socket.close()
})
