// Token expiry on secured-echo's live sockets, in process: the app as `pnpm start` builds it (configFromEnv, buildApp)
// over real TCP, with the guard's clock in the test's hands. Tokens live for minutes of real time, and the test moves
// the guard's clock past their `exp`, so nothing here waits for a token to run out or races a busy machine.
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { WebSocket } from 'ws'
import { buildApp } from '../src/app.ts'
import { configFromEnv } from '../src/config.ts'
import { claimsOf, closed, nextMessage, opened, refused } from '../../../test/helpers/index.ts'

const TOKEN_TTL_SECONDS = 600

interface Running {
  base: string
  ws: string
  /** Sets the guard's clock (epoch milliseconds). */
  setClock (time: number): void
  /** A password grant for johndoe: the access token and its `exp` in milliseconds. */
  login (): Promise<{ accessToken: string, expiresAt: number }>
}

async function start (t: Test): Promise<Running> {
  let now = Date.now()
  const config = configFromEnv({ PORT: '0', LOG_LEVEL: 'silent', TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS) },
    () => randomBytes(32).toString('base64url'))
  const app = await buildApp(config, { clock: () => now })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const base = `http://127.0.0.1:${port}`
  return {
    base,
    ws: `ws://127.0.0.1:${port}`,
    setClock: (time) => { now = time },
    async login () {
      const response = await fetch(`${base}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'password', username: 'johndoe', password: 'secret' }),
      })
      const body = await response.json() as { access_token: string, expires_in: number }
      if (response.status !== 200 || body.expires_in !== TOKEN_TTL_SECONDS) throw new Error(`login: ${response.status} ${JSON.stringify(body)}`)
      const claims = claimsOf(body.access_token)
      if (claims.exp - claims.iat !== TOKEN_TTL_SECONDS) throw new Error('the token does not live TOKEN_TTL_SECONDS')
      return { accessToken: body.access_token, expiresAt: claims.exp * 1000 }
    },
  }
}

async function echoes (t: Test, socket: WebSocket, text: string): Promise<void> {
  socket.send(text)
  t.equal(await nextMessage(socket), `You wrote: ${text}`)
}

t.test('/secured-ws: the live socket is closed when its token expires, and the token is refused afterwards', async (t) => {
  const server = await start(t)
  const { accessToken, expiresAt } = await server.login()
  const bearer = { headers: { authorization: `Bearer ${accessToken}` } }
  const { socket } = await opened(`${server.ws}/secured-ws`, bearer)
  const closing = closed(socket)
  t.equal(await nextMessage(socket), 'Welcome johndoe!')
  // In-band refresh is on: inside the 30 s notice window the client is told first.
  server.setClock(expiresAt - 1000)
  t.strictSame(JSON.parse(await nextMessage(socket)), { type: 'auth.expiring', expiresAt })
  await echoes(t, socket, 'a second before exp')
  server.setClock(expiresAt)
  t.strictSame(await closing, { code: 4401, reason: 'token expired' })
  t.equal((await refused(`${server.ws}/secured-ws`, bearer)).status, 401, 'refused at the handshake by the same clock')
})

t.test('/first-message-ws: auth.expiring, a refresh, then the refreshed token expires', async (t) => {
  const server = await start(t)
  const first = await server.login()
  const { socket } = await opened(`${server.ws}/first-message-ws`)
  const closing = closed(socket)
  socket.send(JSON.stringify({ type: 'auth', token: first.accessToken }))
  t.strictSame(JSON.parse(await nextMessage(socket)), { type: 'auth.ok', expiresAt: first.expiresAt })
  t.equal(await nextMessage(socket), 'Welcome johndoe!')

  // Inside the default 30 s notice window: the client is told to refresh.
  server.setClock(first.expiresAt - 10_000)
  t.strictSame(JSON.parse(await nextMessage(socket)), { type: 'auth.expiring', expiresAt: first.expiresAt })
  const fresh = await server.login()
  socket.send(JSON.stringify({ type: 'auth.refresh', token: fresh.accessToken }))
  t.strictSame(JSON.parse(await nextMessage(socket)), { type: 'auth.ok', expiresAt: fresh.expiresAt })
  await echoes(t, socket, 'after the refresh')

  // The fresh token was taken up with at least 10 s left on the guard's clock, so its notice is due at most half that
  // (5 s) before its exp, never at once: a second before exp it has come.
  server.setClock(fresh.expiresAt - 1000)
  t.strictSame(JSON.parse(await nextMessage(socket)), { type: 'auth.expiring', expiresAt: fresh.expiresAt })
  server.setClock(fresh.expiresAt)
  t.strictSame(await closing, { code: 4401, reason: 'token expired' })
})
