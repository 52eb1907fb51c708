// Two nodes of one service, each with its own Redis connections, on one real redis-server over TCP.
import t, { type Test } from 'tap'
import { startRedis } from '../../../test/helpers/redis.ts'
import { bearer, stillServes } from '../../../test/helpers/app.ts'
import { closed, connect, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { claimsOf } from '../../../test/helpers/jwt.ts'
import { login, mintTicket, postForm, startNode, type Node } from './fixture.ts'

const server = await startRedis(t)
let services = 0

async function twoNodes (t: Test): Promise<[Node, Node]> {
  const prefix = `service${++services}:`
  return [await startNode(t, server, { prefix }), await startNode(t, server, { prefix })]
}

t.test('a token revoked on node A closes its sockets on node B (4401 token revoked) and B refuses it after', async (t) => {
  const [a, b] = await twoNodes(t)
  const tokens = (await login(a)).body
  const access = tokens.access_token as string
  const sockets = await Promise.all(Array.from({ length: 3 }, async () => (await opened(b.url(), bearer(access))).socket))
  for (const socket of sockets) t.equal(await nextMessage(socket), 'Welcome alice!')
  const closes = sockets.map(closed)
  t.equal((await postForm(`${a.base}/revoke`, { token: access })).status, 200)
  for (const close of await Promise.all(closes)) t.strictSame(close, { code: 4401, reason: 'token revoked' })
  t.equal((await refused(b.url(), bearer(access))).status, 401, 'B refuses the token at the next handshake')
  t.equal(b.app.wsAuth.connectionCount('alice'), 0)
  await stillServes(t, b)
})

t.test('disconnect on A closes the subject\'s sockets on B: 4403 when access is withdrawn', async (t) => {
  const [a, b] = await twoNodes(t)
  const { socket } = await opened(b.url(), bearer(b.sign({ sub: 'bob' }, { expiresIn: 600 })))
  const close = closed(socket)
  t.equal(a.app.wsAuth.disconnect('bob', 'withdrawn'), 0, 'none on A itself')
  t.strictSame(await close, { code: 4403, reason: 'access withdrawn' })
  await stillServes(t, b)
})

t.test('a refresh token reused on B revokes its family, whose sockets are on A', async (t) => {
  const [a, b] = await twoNodes(t)
  const first = (await login(a)).body
  const { socket } = await opened(a.url(), bearer(first.access_token as string))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  const close = closed(socket)
  const rotated = await postForm(`${a.base}/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token as string })
  t.equal(rotated.status, 200, 'rotated on A')
  const reused = await postForm(`${b.base}/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token as string })
  t.equal(reused.status, 400, 'the spent token, on B')
  t.equal(reused.body.error, 'invalid_grant')
  t.strictSame(await close, { code: 4401, reason: 'token revoked' }, 'the family\'s socket on A is closed')
  const next = await postForm(`${a.base}/token`, { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token as string })
  t.equal(next.status, 400, 'the family is gone: its newest token is refused on A too')
  t.equal((await refused(a.url(), bearer(rotated.body.access_token as string))).status, 401, 'and the access token it issued')
})

t.test('the login throttle counts failures from both nodes', async (t) => {
  const [a, b] = await twoNodes(t)
  const wrong = 'not the password'
  for (const node of [a, b, a, b, a]) t.equal((await login(node, wrong)).status, 400, 'a wrong password')
  const blocked = await login(b, wrong)
  t.equal(blocked.status, 429, 'the sixth, wherever it lands, is throttled (5 per username)')
  t.ok(Number(blocked.headers.get('retry-after')) > 0, 'with Retry-After')
  t.equal((await login(a)).status, 429, 'even the right password, while blocked')
})

t.test('access tokens denylisted at rotation on B are refused on A', async (t) => {
  const [a, b] = await twoNodes(t)
  const first = (await login(a)).body
  const { jti } = claimsOf(first.access_token as string)
  await b.app.wsAuth.revokeToken(jti!, Date.now() + 60_000)
  t.equal((await refused(a.url(), bearer(first.access_token as string))).status, 401)
})

t.test('one ticket (@wsauth/ticket), 100 concurrent handshakes spread over two nodes: one 101, 99 refusals, no 5xx', async (t) => {
  const [a, b] = await twoNodes(t)
  const access = (await login(a)).body.access_token as string
  const ticket = await mintTicket(a, access)
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => connect(`${(i % 2 === 0 ? a : b).url()}?ticket=${ticket}`)))
  const upgraded = results.filter((result) => result.kind === 'opened')
  t.equal(upgraded.length, 1, 'one 101')
  t.equal(results.filter((result) => result.kind === 'refused' && result.status === 401).length, 99, '99 refusals, all 401')
  for (const result of upgraded) if (result.kind === 'opened') result.socket.terminate()
  for (const node of [a, b]) {
    const { socket } = await opened(`${node.url()}?ticket=${await mintTicket(b, access)}`)
    t.equal(await nextMessage(socket), 'Welcome alice!', 'a ticket minted on B is redeemed on either node')
    socket.terminate()
  }
  await stillServes(t, a)
  await stillServes(t, b)
})

t.test('a token revoked with an expiry past what Redis can hold does not break the revocations after it', async (t) => {
  const [a, b] = await twoNodes(t)
  // An app's "never" (Infinity), or a token from an issuer that stamps an absurd exp: the entry is still written.
  await a.app.wsAuth.revokeToken('forever', Number.POSITIVE_INFINITY)
  await a.app.wsAuth.revokeToken('far', 1e20)
  t.equal(await b.app.wsAuth.denyList.has('forever'), true)
  const access = (await login(a)).body.access_token as string
  const { socket } = await opened(b.url(), bearer(access))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  const close = closed(socket)
  t.equal((await postForm(`${a.base}/revoke`, { token: access })).status, 200, 'the next revocation is written')
  t.strictSame(await close, { code: 4401, reason: 'token revoked' }, 'and reaches B')
  t.equal((await refused(b.url(), bearer(access))).status, 401)
  t.ok(await a.stores.redis.pttl(`service${services}:denylist`) > 0, 'the denylist key still expires')
  await stillServes(t, b)
})

t.test('a revocation whose message fails to go out after its denylist entry was written still closes B\'s sockets', async (t) => {
  const prefix = `service${++services}:`
  const a = await startNode(t, server, {
    prefix,
    guardStores: (stores) => ({ ...stores, bus: { subscribe: (listener) => stores.bus.subscribe(listener), publish: async () => { throw new Error('connection lost') } } }),
  })
  const b = await startNode(t, server, { prefix })
  const token = b.sign({ sub: 'alice', jti: 'unannounced' }, { expiresIn: 600 })
  const { socket } = await opened(b.url(), bearer(token))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  const close = closed(socket)
  t.equal(await a.app.wsAuth.revokeToken('unannounced', Date.now() + 600_000), 0, 'answered as done')
  t.strictSame(await close, { code: 4401, reason: 'token revoked' }, 'the denylist entry the nodes heard of closes the socket')
  await stillServes(t, b)
})
