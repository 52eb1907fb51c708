// Redis stopped under two running nodes, then started again on the same port: what needs Redis is answered 503 with
// Retry-After (1013 on a socket in close mode), nothing passes, the processes stay up, and serving resumes by itself.
import { once } from 'node:events'
import t from 'tap'
import { startRedis } from '../../../test/helpers/redis.ts'
import { bearer, stillServes } from '../../../test/helpers/app.ts'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { ALICE, FIRST_MESSAGE_PATH, login, mintTicket, postForm, startNode } from './fixture.ts'

t.test('Redis down: 503 with Retry-After, 1013 in close mode, no pass; Redis back: serving resumes', async (t) => {
  const server = await startRedis(t)
  const a = await startNode(t, server, { prefix: 'outage:' })
  const b = await startNode(t, server, { prefix: 'outage:' })
  const access = (await login(a)).body.access_token as string
  const { socket: live } = await opened(b.url(), bearer(access))
  t.equal(await nextMessage(live), 'Welcome alice!')
  const ticket = await mintTicket(a, access)

  const lost = [once(a.stores.subscriber, 'close'), once(b.stores.subscriber, 'close')]
  await server.stop()
  await Promise.all(lost)

  for (const node of [a, b]) {
    const handshake = await refused(node.url(), bearer(access))
    t.equal(handshake.status, 503, 'a Bearer handshake: the denylist can\'t be checked')
    t.equal(handshake.headers['retry-after'], '5', 'with Retry-After')
    t.equal(JSON.parse(handshake.body).error, 'temporarily_unavailable')
    const { socket } = await opened(node.url('/close-mode'), bearer(access))
    t.strictSame(await closed(socket), { code: 1013, reason: 'try again later' }, 'close mode: 1013')
    const { socket: inBand } = await opened(node.url(FIRST_MESSAGE_PATH))
    const inBandClosed = closed(inBand)
    inBand.send(JSON.stringify({ type: 'auth', token: access }))
    t.strictSame(await inBandClosed, { code: 1013, reason: 'try again later' }, 'a first message: 1013')
    const answer = await login(node)
    t.equal(answer.status, 503, 'a login: the throttle can\'t count')
    t.equal(answer.headers.get('retry-after'), '5')
    const redeemed = await refused(`${node.url()}?ticket=${ticket}`)
    t.equal(redeemed.status, 503, 'a ticket: it can\'t be taken')
    t.equal(redeemed.headers['retry-after'], '5')
    const mint = await fetch(`${node.base}/ws-ticket`, { method: 'POST', headers: { authorization: `Bearer ${access}` } })
    t.equal(mint.status, 503, 'minting a ticket')
  }
  const revoke = await fetch(`${a.base}/revoke`, { method: 'POST', body: new URLSearchParams({ token: access }) })
  t.equal(revoke.status, 503, 'a revocation that can\'t be written is not answered as done')
  t.equal(live.readyState, live.OPEN, 'a live socket stays up: nothing revoked it')

  await startRedis(t, { port: server.port })
  await Promise.all([a.stores.ready(), b.stores.ready()])
  for (const node of [a, b]) {
    await stillServes(t, node)
    t.equal((await login(node)).status, 200, `${ALICE.username} logs in again`)
  }
  const { socket: byTicket } = await opened(`${a.url()}?ticket=${await mintTicket(b, access)}`)
  t.equal(await nextMessage(byTicket), 'Welcome alice!', 'tickets again')
  byTicket.terminate()
  const { socket: again } = await opened(b.url(), bearer(access))
  t.equal(await nextMessage(again), 'Welcome alice!', 'the token is good again on B')
  const closes = [closed(live), closed(again)]
  t.equal((await fetch(`${a.base}/revoke`, { method: 'POST', body: new URLSearchParams({ token: access }) })).status, 200)
  for (const close of await Promise.all(closes)) t.strictSame(close, { code: 4401, reason: 'token revoked' }, 'revocation crosses nodes again')
})

t.test('a family revoked while the denylist fails: 503, and the retry still denylists its access tokens', async (t) => {
  const server = await startRedis(t)
  let failing = false
  const node = await startNode(t, server, {
    prefix: 'revoke-outage:',
    guardStores: (stores) => ({
      ...stores,
      denyList: {
        has: (tokenId) => stores.denyList.has(tokenId),
        add: async (tokenId, expiresAt) => {
          if (failing) throw new Error('denylist down')
          await stores.denyList.add(tokenId, expiresAt)
        },
      },
    }),
  })
  const tokens = (await login(node)).body
  const access = tokens.access_token as string
  failing = true
  const revoke = async (): Promise<number> =>
    (await fetch(`${node.base}/revoke`, { method: 'POST', body: new URLSearchParams({ token: tokens.refresh_token as string }) })).status
  t.equal(await revoke(), 503, 'the access tokens could not be denylisted: not answered as done')
  failing = false
  t.equal(await revoke(), 200, 'the retry')
  t.equal((await refused(node.url(), bearer(access))).status, 401, 'and the family\'s access token is refused')
  t.equal((await postForm(`${node.base}/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string })).status, 400, 'the refresh token is spent')
  await stillServes(t, node)
})
