import t from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import { MemoryDenyList } from '@wsauth/core'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.js'
import { ALICE, bearer, claimsOf, login, postForm, postJson, postRaw, startServer, stillServes, type Answer, type Test, type TestServer } from './fixture.js'

function revoke (server: TestServer, fields: Record<string, string | string[]>): Promise<Answer> {
  return postForm(`${server.base}/revoke`, fields)
}

function assertRevokeOk (t: Test, result: Answer): void {
  t.equal(result.status, 200)
  t.equal(result.text, '', 'an empty body')
  t.equal(result.headers.get('cache-control'), 'no-store')
}

t.test('revoking an access token closes its live socket with 4401 and refuses it afterwards', async (t) => {
  const server = await startServer(t)
  const tokens = await login(server)
  const other = await login(server)
  const { socket } = await opened(server.wsUrl, bearer(tokens.access_token))
  t.match(JSON.parse(await nextMessage(socket)), { subject: 'alice' })
  const otherSocket = (await opened(server.wsUrl, bearer(other.access_token))).socket
  await nextMessage(otherSocket)
  const socketClosed = closed(socket)

  assertRevokeOk(t, await revoke(server, { token: tokens.access_token }))
  t.same(await socketClosed, { code: 4401, reason: 'token revoked' })
  t.equal((await refused(server.wsUrl, bearer(tokens.access_token))).status, 401, 'later handshakes are refused')
  const jti = claimsOf(server, tokens.access_token).jti as string
  t.equal(await server.app.wsAuth.denyList.has(jti), true, 'denylisted')

  otherSocket.send('ping')
  t.equal(await nextMessage(otherSocket), 'echo: ping', 'another token\'s socket stays open')
  otherSocket.terminate()
  t.equal((await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).status, 200,
    'revoking an access token leaves its refresh token alone')
  assertRevokeOk(t, await revoke(server, { token: tokens.access_token }))
})

t.test('revoking a refresh token ends its family', async (t) => {
  const server = await startServer(t)
  const first = await login(server)
  const second = (await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token })).json
  const { socket } = await opened(server.wsUrl, bearer(second.access_token))
  await nextMessage(socket)
  const socketClosed = closed(socket)

  assertRevokeOk(t, await postJson(`${server.base}/revoke`, { token: second.refresh_token, token_type_hint: 'refresh_token' }))
  t.same(await socketClosed, { code: 4401, reason: 'token revoked' }, 'the family\'s access tokens go too')
  t.equal((await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: second.refresh_token })).json.error, 'invalid_grant')
  t.equal((await refused(server.wsUrl, bearer(second.access_token))).status, 401)

  const spent = await login(server)
  await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: spent.refresh_token })
  const spentSocket = (await opened(server.wsUrl, bearer(spent.access_token))).socket
  await nextMessage(spentSocket)
  const spentClosed = closed(spentSocket)
  assertRevokeOk(t, await revoke(server, { token: spent.refresh_token, token_type_hint: 'access_token' }))
  t.same(await spentClosed, { code: 4401, reason: 'token revoked' }, 'a spent refresh token still names its family; a wrong hint is fine')
  await stillServes(t, server)
})

t.test('an access token without exp is denylisted for good', async (t) => {
  const server = await startServer(t)
  const token = server.app.jwt.sign({ sub: 'alice', jti: 'no-expiry' })
  const { socket } = await opened(server.wsUrl, bearer(token))
  await nextMessage(socket)
  const socketClosed = closed(socket)
  assertRevokeOk(t, await revoke(server, { token }))
  t.equal((await socketClosed).code, 4401)
  t.equal(await server.app.wsAuth.denyList.has('no-expiry'), true)
})

t.test('tokens that are not valid: 200 and nothing happens (RFC 7009 §2.2)', async (t) => {
  const server = await startServer(t)
  const tokens = await login(server)
  const { socket } = await opened(server.wsUrl, bearer(tokens.access_token))
  await nextMessage(socket)

  const foreign = Fastify()
  await foreign.register(fastifyJwt, { secret: 'another secret entirely, also long enough' })
  await foreign.ready()
  t.teardown(() => foreign.close())
  const claims = claimsOf(server, tokens.access_token)
  const now = Math.floor(Date.now() / 1000)
  for (const token of [
    'garbage', 'x'.repeat(5000), 'a.b.c', `${tokens.access_token}x`, '\u00e9\u00e8',
    foreign.jwt.sign(claims),
    server.app.jwt.sign({ ...claims, iat: now - 100, exp: now - 50 }),
    server.app.jwt.sign({ sub: 'alice' }),
  ]) {
    assertRevokeOk(t, await revoke(server, { token }))
  }
  socket.send('still open?')
  t.equal(await nextMessage(socket), 'echo: still open?', 'the real token was not touched')
  socket.terminate()
  await stillServes(t, server)
})

t.test('bad revocation requests: invalid_request', async (t) => {
  const server = await startServer(t)
  const tokens = await login(server)
  const cases: Array<[string, Promise<Answer>]> = [
    ['no token', revoke(server, {})],
    ['an empty token', revoke(server, { token: '' })],
    ['a token given twice', revoke(server, { token: [tokens.access_token, tokens.access_token] })],
    ['a number', postJson(`${server.base}/revoke`, { token: 42 })],
    ['an array hint', postJson(`${server.base}/revoke`, { token: tokens.access_token, token_type_hint: ['access_token'] })],
    ['a JSON array', postRaw(`${server.base}/revoke`, '[]', { 'content-type': 'application/json' })],
    ['bad JSON', postRaw(`${server.base}/revoke`, '{"token": ', { 'content-type': 'application/json' })],
  ]
  for (const [name, pending] of cases) {
    const result = await pending
    t.equal(result.status, 400, name)
    t.equal(result.json.error, 'invalid_request', name)
  }
  const plain = await postRaw(`${server.base}/revoke`, `token=${tokens.access_token}`, { 'content-type': 'text/plain' })
  t.equal(plain.status, 415)
  const large = await postRaw(`${server.base}/revoke`, `token=${'x'.repeat(1024 * 1024)}`, { 'content-type': 'application/x-www-form-urlencoded' })
  t.equal(large.status, 413)
  const { socket } = await opened(server.wsUrl, bearer(tokens.access_token))
  t.match(JSON.parse(await nextMessage(socket)), { subject: ALICE.username }, 'none of them revoked the token')
  socket.terminate()
  await stillServes(t, server)
})

t.test('a denylist that fails: 503', async (t) => {
  const denyList = new MemoryDenyList()
  let down = true
  const flaky = {
    async add (tokenId: string, expiresAt: number | null) {
      if (down) throw new Error('redis is down')
      await denyList.add(tokenId, expiresAt)
    },
    has: (tokenId: string) => denyList.has(tokenId),
  }
  const server = await startServer(t, {}, { guard: { denyList: flaky } })
  const tokens = await login(server)
  const failed = await revoke(server, { token: tokens.access_token })
  t.equal(failed.status, 503)
  t.same(failed.json, { error: 'temporarily_unavailable', error_description: 'try again later' })
  down = false
  assertRevokeOk(t, await revoke(server, { token: tokens.access_token }))
  t.equal((await refused(server.wsUrl, bearer(tokens.access_token))).status, 401)
})
