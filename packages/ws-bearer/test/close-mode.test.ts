// Close mode: the handshake upgrades and the socket is closed at once with the outcome's code, so a browser (which
// never sees an HTTP status) learns why. The app's handler never runs for a rejected socket.
import t, { type Test } from 'tap'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { type Fixture, assertRefused, bearer, build, closedOnOpen, craftJwt, nowSeconds, OTHER_SECRET, stillServes } from '../../../test/helpers/index.ts'

const ORIGIN = 'http://localhost:8000'

/** Every outcome a handshake can have, answered by close code on `path`. */
function closeCodes (fx: () => Fixture, path: string): (t: Test) => Promise<void> {
  return async (t) => {
    const url = fx().url(path)
    const cases: Array<[string, Parameters<typeof opened>[1], number, string]> = [
      ['missing', {}, 4401, 'unauthorized'],
      ['malformed: Bearer with no token', { headers: { Authorization: 'Bearer' } }, 4400, 'bad request'],
      ['malformed: a 10 KB token', bearer('a'.repeat(10 * 1024)), 4400, 'bad request'],
      ['invalid: not a JWT', bearer('not-a-token'), 4401, 'invalid token'],
      ['invalid: another key', bearer(craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'a', exp: nowSeconds() + 60 }, OTHER_SECRET)), 4401, 'invalid token'],
      ['forbidden: authorize says no', bearer(fx().sign({ sub: 'mallory' })), 4403, 'forbidden'],
      ['forbidden: a foreign Origin', { ...bearer(fx().sign({ sub: 'alice' })), origin: 'http://evil.test' }, 4403, 'forbidden'],
      ['internal: a bug in authorize', bearer(fx().sign({ sub: 'crash' })), 1011, 'internal error'],
    ]
    for (const [name, options, code, reason] of cases) {
      const before = fx().handled
      t.strictSame(await closedOnOpen(url, options), { code, reason }, name)
      t.equal(fx().handled, before, `${name}: the app handler never ran`)
    }
    // A good handshake on the same route: the app handler runs exactly once.
    const before = fx().handled
    const { socket } = await opened(url, bearer(fx().sign({ sub: 'alice' })))
    t.equal(await nextMessage(socket), 'Welcome alice!')
    t.equal(fx().handled, before + 1)
    socket.close()
    t.equal(fx().app.wsAuth.connectionCount('mallory'), 0, 'a rejected socket is not tracked')
    await stillServes(t, fx())
  }
}

const authorize = (identity: { subject: string }): boolean => {
  if (identity.subject === 'crash') throw new Error('authorize bug')
  return identity.subject !== 'mallory'
}

t.test('route config { wsAuth: { mode: "close" } }', async (t) => {
  const fx = await build(t, { guard: { origins: [ORIGIN], authorize } })
  t.test('close codes on the close-mode route', closeCodes(() => fx, '/close-mode'))
  t.test('the same app answers over HTTP on its other routes', async (t) => {
    assertRefused(t, await refused(fx.url('/ws')), { status: 401 })
    assertRefused(t, await refused(fx.url('/ws'), bearer(fx.sign({ sub: 'mallory' }))), { status: 403, wwwAuthenticate: null })
  })
  t.test('a message sent before the close never reaches the app', async (t) => {
    const { socket } = await opened(fx.url('/close-mode'))
    socket.send('let me in')
    const before = fx.handled
    t.strictSame(await closed(socket), { code: 4401, reason: 'unauthorized' })
    t.equal(fx.handled, before)
    await t.rejects(nextMessage(socket), 'no echo, no welcome')
  })
  t.test('a plain HTTP request to a close-mode route still gets a status', async (t) => {
    const response = await fetch(`http://127.0.0.1:${fx.port}/close-mode`)
    t.equal(response.status, 401)
  })
})

t.test('global mode: "close"', async (t) => {
  const fx = await build(t, {
    guard: { origins: [ORIGIN], authorize, mode: 'close' },
    routes: (app) => {
      app.get('/http-mode', { websocket: true, config: { wsAuth: { mode: 'http' } } }, (socket) => { socket.send('hi') })
    },
  })
  t.test('close codes on a route with no settings', closeCodes(() => fx, '/ws'))
  t.test('a route can choose HTTP mode back', async (t) => {
    assertRefused(t, await refused(fx.url('/http-mode')), { status: 401, wwwAuthenticate: 'Bearer realm="wsauth"' })
    assertRefused(t, await refused(fx.url('/http-mode'), { headers: { Authorization: 'Bearer' } }), { status: 400 })
    await stillServes(t, fx)
  })
})
