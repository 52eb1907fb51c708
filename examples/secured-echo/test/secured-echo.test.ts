import t, { type Test } from 'tap'
import { encodeBasic } from '@wsauth/core'
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

  await t.test('no token or password reaches the log', async (t) => {
    t.equal((await fetch(`${server.baseUrl}/nope?token=${accessToken}`)).status, 404)
    const output = server.output()
    t.match(output, /"url":"\/secured-ws\?token=\[redacted\]"/, 'the query request was logged, redacted')
    t.notOk(output.includes(accessToken), 'access token absent')
    t.notOk(output.includes(refreshToken), 'refresh token absent')
    t.notOk(output.includes(encodeBasic('johndoe', 'secret')), 'Basic credentials absent')
    t.notOk(output.includes('secret2'), 'no password')
  })
})

t.test('TOKEN_TTL_SECONDS=1: the live socket is closed when the token expires', async (t) => {
  const server = await startSecuredEcho({ TOKEN_TTL_SECONDS: '1', LOG_LEVEL: 'warn' })
  t.teardown(() => server.stop())
  const { access_token: accessToken, expires_in: expiresIn } = await token(server) as { access_token: string, expires_in: number }
  t.equal(expiresIn, 1)
  const { socket } = await opened(`${server.wsUrl}/secured-ws`, { headers: { authorization: `Bearer ${accessToken}` } })
  const closing = closed(socket)
  t.equal(await nextMessage(socket), 'Welcome johndoe!')
  t.strictSame(await closing, { code: 4401, reason: 'token expired' })
})
