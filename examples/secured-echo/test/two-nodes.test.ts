// secured-echo with REDIS_URL: two processes on two ports, started as `pnpm start` starts them, behave as one service.
import t from 'tap'
import { startRedis } from '../../../test/helpers/redis.ts'
import { startSecuredEcho } from '../../../test/helpers/secured-echo.ts'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'

async function post (url: string, fields: Record<string, string>): Promise<{ status: number, body: Record<string, string> }> {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(fields) })
  const text = await response.text()
  return { status: response.status, body: text === '' ? {} : JSON.parse(text) as Record<string, string> }
}

t.test('two secured-echo processes on one Redis', async (t) => {
  const redis = await startRedis(t)
  const env = { REDIS_URL: redis.url, JWT_SECRET: 'one secret for every node of the service, long enough', COOKIE_SECRETS: 'one cookie secret for every node' }
  const a = await startSecuredEcho(env)
  t.teardown(() => a.stop())
  const b = await startSecuredEcho(env)
  t.teardown(() => b.stop())
  t.match(a.output(), /\(stores on Redis\)/)

  const login = await post(`${a.baseUrl}/token`, { grant_type: 'password', username: 'johndoe', password: 'secret' })
  t.equal(login.status, 200, 'signed in on A')
  const refreshed = await post(`${b.baseUrl}/token`, { grant_type: 'refresh_token', refresh_token: login.body.refresh_token! })
  t.equal(refreshed.status, 200, 'refreshed on B: the family is shared')
  t.equal((await post(`${a.baseUrl}/token`, { grant_type: 'refresh_token', refresh_token: login.body.refresh_token! })).status, 400,
    'the spent refresh token is refused on A')

  const next = await post(`${b.baseUrl}/token`, { grant_type: 'password', username: 'johndoe', password: 'secret' })
  const headers = { authorization: `Bearer ${next.body.access_token!}` }
  const { socket } = await opened(`${b.wsUrl}/secured-ws`, { headers })
  t.equal(await nextMessage(socket), 'Welcome johndoe!')
  const socketClosed = closed(socket)
  t.equal((await post(`${a.baseUrl}/revoke`, { token: next.body.refresh_token! })).status, 200, 'revoked on A')
  t.strictSame(await socketClosed, { code: 4401, reason: 'token revoked' }, 'the socket on B is closed')
  t.equal((await refused(`${a.wsUrl}/secured-ws`, { headers })).status, 401, 'and the token refused on A')

  const fresh = await post(`${a.baseUrl}/token`, { grant_type: 'password', username: 'johndoe', password: 'secret' })
  const minted = await fetch(`${a.baseUrl}/ws-ticket`, { method: 'POST', headers: { authorization: `Bearer ${fresh.body.access_token!}` } })
  const { ticket } = await minted.json() as { ticket: string }
  const { socket: byTicket } = await opened(`${b.wsUrl}/secured-ws?ticket=${ticket}`)
  t.equal(await nextMessage(byTicket), 'Welcome johndoe!', 'a ticket minted on A is redeemed on B')
  byTicket.close()
  t.equal((await refused(`${a.wsUrl}/secured-ws?ticket=${ticket}`)).status, 401, 'and only once: A refuses it after')

  for (const node of [a, b, a, b, a]) {
    t.equal((await post(`${node.baseUrl}/token`, { grant_type: 'password', username: 'janedoe', password: 'wrong' })).status, 400)
  }
  t.equal((await post(`${b.baseUrl}/token`, { grant_type: 'password', username: 'janedoe', password: 'wrong' })).status, 429,
    'the throttle counts failures on both')
  t.notOk((a.output() + b.output()).includes(next.body.access_token!), 'no token in either log')
})
