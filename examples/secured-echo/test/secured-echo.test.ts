import t, { type Test } from 'tap'
import { encodeBasic } from '@wsauth/core'
import { tokenSubprotocol } from '@wsauth/subprotocol-token'
import { startSecuredEcho, type RunningServer } from '../../../test/helpers/secured-echo.ts'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'

async function token (server: RunningServer, username = 'johndoe', password = 'secret'): Promise<Record<string, unknown>> {
  const response = await fetch(`${server.baseUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username, password }),
  })
  t.equal(response.status, 200, 'token issued')
  return await response.json() as Record<string, unknown>
}

function expiryOf (accessToken: string): number {
  return (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000
}

async function welcomeAndEcho (t: Test, url: string, headers: Record<string, string> = {}): Promise<void> {
  const { socket } = await opened(url, { headers })
  t.equal(await nextMessage(socket), 'Welcome johndoe!')
  socket.send('hello')
  t.equal(await nextMessage(socket), 'You wrote: hello')
  socket.close(1000)
  await closed(socket)
}

t.test('secured-echo, started as `pnpm start` starts it, at LOG_LEVEL=debug', async (t) => {
  // PORT=0 picks a free port, so the default allowlist (built from PORT) can't name it: give one explicitly.
  const server = await startSecuredEcho({ LOG_LEVEL: 'debug', ALLOWED_ORIGINS: 'http://app.localhost:3000' })
  t.teardown(() => server.stop())
  const { access_token: accessToken, refresh_token: refreshToken } = await token(server) as { access_token: string, refresh_token: string }

  await t.test('serves the page', async (t) => {
    const response = await fetch(server.baseUrl)
    t.equal(response.status, 200)
    t.match(await response.text(), /<title>wsauth secured echo<\/title>/)
  })

  await t.test('Bearer header', (t) => welcomeAndEcho(t, `${server.wsUrl}/secured-ws`, { authorization: `Bearer ${accessToken}` }))
  await t.test('Basic token:<access_token>', (t) =>
    welcomeAndEcho(t, `${server.wsUrl}/secured-ws`, { authorization: `Basic ${encodeBasic('token', accessToken)}` }))
  await t.test('Basic johndoe:secret', (t) =>
    welcomeAndEcho(t, `${server.wsUrl}/secured-ws`, { authorization: `Basic ${encodeBasic('johndoe', 'secret')}` }))
  await t.test('URI user info, as ws sends it', (t) =>
    welcomeAndEcho(t, `ws://johndoe:secret@127.0.0.1:${server.port}/secured-ws`))
  await t.test('query parameter', (t) => welcomeAndEcho(t, `${server.wsUrl}/secured-ws?token=${accessToken}`))
  await t.test('an allowed Origin', (t) =>
    welcomeAndEcho(t, `${server.wsUrl}/secured-ws?token=${accessToken}`, { origin: 'http://app.localhost:3000' }))

  await t.test('the hidden-iframe cookie: POST /ws-auth/session, then the cookie from an allowed Origin', async (t) => {
    const session = await fetch(`${server.baseUrl}/ws-auth/session`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } })
    t.equal(session.status, 204)
    const [setCookie] = session.headers.getSetCookie()
    t.match(setCookie, /^wsauth=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/)
    const cookie = setCookie!.split(';')[0]!
    await welcomeAndEcho(t, `${server.wsUrl}/secured-ws`, { cookie, origin: 'http://app.localhost:3000' })
    t.equal((await refused(`${server.wsUrl}/secured-ws`, { headers: { cookie } })).status, 403, 'no Origin: 403')
    t.equal((await refused(`${server.wsUrl}/secured-ws`, { headers: { cookie, origin: 'http://app.localhost:3000.evil.test' } })).status, 403,
      'a lookalike Origin: 403')
  })
  await t.test('a token in Sec-WebSocket-Protocol, in each format, next to echo.v1', async (t) => {
    for (const format of ['jupyter', 'kubernetes', 'wsauth'] as const) {
      const { socket, protocol } = await opened(`${server.wsUrl}/secured-ws`, { protocols: ['echo.v1', tokenSubprotocol(accessToken, format)] })
      t.equal(protocol, 'echo.v1', `${format}: socket.protocol is echo.v1, never the token`)
      t.equal(await nextMessage(socket), 'Welcome johndoe!')
      socket.send('hello')
      t.equal(await nextMessage(socket), 'You wrote: hello')
      socket.close(1000)
      await closed(socket)
    }
  })
  await t.test('a ticket: POST /ws-ticket with the token, then ?ticket= or a subprotocol, once each', async (t) => {
    const mint = async (): Promise<string> => {
      const response = await fetch(`${server.baseUrl}/ws-ticket`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } })
      t.equal(response.status, 200)
      t.equal(response.headers.get('cache-control'), 'no-store')
      return (await response.json() as { ticket: string }).ticket
    }
    const byQuery = await mint()
    await welcomeAndEcho(t, `${server.wsUrl}/secured-ws?ticket=${byQuery}`)
    t.equal((await refused(`${server.wsUrl}/secured-ws?ticket=${byQuery}`)).status, 401, 'a second use')
    const { socket, protocol } = await opened(`${server.wsUrl}/secured-ws`, { protocols: ['echo.v1', `wsauth.ticket.${await mint()}`] })
    t.equal(protocol, 'echo.v1', 'never the ticket')
    t.equal(await nextMessage(socket), 'Welcome johndoe!')
    socket.close(1000)
    await closed(socket)
  })
  await t.test('refusals', async (t) => {
    t.equal((await refused(`${server.wsUrl}/secured-ws`)).status, 401, 'no credential')
    t.equal((await refused(`${server.wsUrl}/secured-ws`, { headers: { authorization: `Basic ${encodeBasic('johndoe', 'wrong')}` } })).status, 401, 'wrong password')
    t.equal((await refused(`${server.wsUrl}/secured-ws?token=${accessToken}`, { headers: { origin: 'http://evil.test' } })).status, 403, 'foreign Origin')
    const wrong = await fetch(`${server.baseUrl}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'johndoe', password: 'nope' }),
    })
    t.equal(wrong.status, 400)
    t.equal((await wrong.json() as { error: string }).error, 'invalid_grant')
  })

  await t.test('POST /revoke closes the live socket, and the token is refused afterwards', async (t) => {
    const fresh = await token(server) as { access_token: string }
    const { socket } = await opened(`${server.wsUrl}/secured-ws`, { headers: { authorization: `Bearer ${fresh.access_token}` } })
    t.equal(await nextMessage(socket), 'Welcome johndoe!')
    const closing = closed(socket)
    const response = await fetch(`${server.baseUrl}/revoke`, { method: 'POST', body: new URLSearchParams({ token: fresh.access_token }) })
    t.equal(response.status, 200)
    t.strictSame(await closing, { code: 4401, reason: 'token revoked' })
    t.equal((await refused(`${server.wsUrl}/secured-ws`, { headers: { authorization: `Bearer ${fresh.access_token}` } })).status, 401)
  })

  await t.test('/first-message-ws: the token in the first message, then welcome and echo; a bad one: 4401', async (t) => {
    const { socket } = await opened(`${server.wsUrl}/first-message-ws`)
    socket.send(JSON.stringify({ type: 'auth', token: accessToken }))
    t.strictSame(JSON.parse(await nextMessage(socket)), { type: 'auth.ok', expiresAt: expiryOf(accessToken) })
    t.equal(await nextMessage(socket), 'Welcome johndoe!')
    socket.send('hello')
    t.equal(await nextMessage(socket), 'You wrote: hello')
    socket.close(1000)
    await closed(socket)
    const bad = await opened(`${server.wsUrl}/first-message-ws`)
    bad.socket.send(JSON.stringify({ type: 'auth', token: 'junk' }))
    t.strictSame(await closed(bad.socket), { code: 4401, reason: 'invalid token' })
  })

  await t.test('auth.refresh with a fresh access token, on both routes', async (t) => {
    const bearerSocket = (await opened(`${server.wsUrl}/secured-ws`, { headers: { authorization: `Bearer ${accessToken}` } })).socket
    t.equal(await nextMessage(bearerSocket), 'Welcome johndoe!')
    const firstMessageSocket = (await opened(`${server.wsUrl}/first-message-ws`)).socket
    firstMessageSocket.send(JSON.stringify({ type: 'auth', token: accessToken }))
    t.equal(JSON.parse(await nextMessage(firstMessageSocket)).type, 'auth.ok')
    t.equal(await nextMessage(firstMessageSocket), 'Welcome johndoe!')
    for (const socket of [bearerSocket, firstMessageSocket]) {
      const { access_token: fresh } = await token(server) as { access_token: string }
      socket.send(JSON.stringify({ type: 'auth.refresh', token: fresh }))
      t.strictSame(JSON.parse(await nextMessage(socket)), { type: 'auth.ok', expiresAt: expiryOf(fresh) })
      socket.send('after the refresh')
      t.equal(await nextMessage(socket), 'You wrote: after the refresh')
      socket.close(1000)
      await closed(socket)
    }
  })

  await t.test('POST /revoke feeds the denylist: a revoked token is refused by first message and by refresh', async (t) => {
    const { access_token: revoked } = await token(server) as { access_token: string }
    t.equal((await fetch(`${server.baseUrl}/revoke`, { method: 'POST', body: new URLSearchParams({ token: revoked }) })).status, 200)
    const first = (await opened(`${server.wsUrl}/first-message-ws`)).socket
    first.send(JSON.stringify({ type: 'auth', token: revoked }))
    t.strictSame(await closed(first), { code: 4401, reason: 'invalid token' }, 'by first message')
    const live = (await opened(`${server.wsUrl}/secured-ws`, { headers: { authorization: `Bearer ${accessToken}` } })).socket
    t.equal(await nextMessage(live), 'Welcome johndoe!')
    live.send(JSON.stringify({ type: 'auth.refresh', token: revoked }))
    t.strictSame(await closed(live), { code: 4401, reason: 'invalid token' }, 'by refresh')
  })

  await t.test('no token or password reaches the log', async (t) => {
    t.equal((await fetch(`${server.baseUrl}/nope?token=${accessToken}`)).status, 404)
    const output = server.output()
    t.match(output, /"url":"\/secured-ws\?\[redacted\]"/, 'the query request was logged, redacted')
    t.notOk(output.includes(accessToken), 'access token absent')
    t.notOk(output.includes(refreshToken), 'refresh token absent')
    t.notOk(output.includes(encodeBasic('johndoe', 'secret')), 'Basic credentials absent')
    t.notOk(output.includes('secret2'), 'no password')
  })
})
