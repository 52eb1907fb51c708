// The guard's Basic logins checked by `authenticateUser` (issue 8, defect 4): such a socket carries no token, lives as
// long as an access token would, and closes when the user revokes any of their tokens, access or refresh.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t from 'tap'
import { CHANNELS, type AuthenticatedEvent } from '@wsauth/ws-bearer'
import { closed, nextMessage, opened } from '../../../test/helpers/ws.js'
import { ALICE, bearer, login, postForm, startServer, stillServes, type Test, type TestServer } from './fixture.js'

const ORIGIN = 'http://localhost:8000'
const BOB = { username: 'bob', password: 'bob has a long password too' }
const TTL = 600

async function serverWithBasic (t: Test): Promise<TestServer> {
  const server = await startServer(t, { accessTokenTtl: TTL }, {
    guard: {
      origins: [ORIGIN],
      basic: { verifyPassword: (username, password, request) => request.server.passwordBearer.authenticateUser(username, password, request) },
    },
  })
  await server.users.add(BOB.username, BOB.password)
  return server
}

function basicOf (user: { username: string, password: string }): { headers: { authorization: string } } {
  return { headers: { authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` } }
}

async function passwordSocket (t: Test, server: TestServer, user: { username: string, password: string }): Promise<Awaited<ReturnType<typeof opened>>['socket']> {
  const { socket } = await opened(server.wsUrl, basicOf(user))
  t.match(JSON.parse(await nextMessage(socket)), { subject: user.username }, `${user.username}: a password socket`)
  return socket
}

async function stillOpen (t: Test, socket: Awaited<ReturnType<typeof opened>>['socket'], name: string): Promise<void> {
  socket.send('ping')
  t.equal(await nextMessage(socket), 'echo: ping', `${name} stays open`)
}

t.test('a password socket lives as long as an access token', async (t) => {
  const server = await serverWithBasic(t)
  const events: AuthenticatedEvent[] = []
  const listener = (event: unknown): void => { events.push(event as AuthenticatedEvent) }
  subscribe(CHANNELS.authenticated, listener)
  t.teardown(() => { unsubscribe(CHANNELS.authenticated, listener) })
  const before = Date.now()
  const socket = await passwordSocket(t, server, ALICE)
  const after = Date.now()
  const { expiresAt, tokenId, transport } = events[0]!
  t.equal(transport, 'basic')
  t.equal(tokenId, null)
  // Bounds of the moment of the check, not a margin of time.
  t.ok(expiresAt !== null && expiresAt >= before + TTL * 1000 && expiresAt <= after + TTL * 1000, 'expiresAt = the check + accessTokenTtl')
  socket.close()
})

t.test('POST /revoke of an access token closes the user\'s password sockets', async (t) => {
  const server = await serverWithBasic(t)
  const tokens = await login(server)
  const alice = await passwordSocket(t, server, ALICE)
  const bob = await passwordSocket(t, server, BOB)
  const aliceClosed = closed(alice)
  t.equal((await postForm(`${server.base}/revoke`, { token: tokens.access_token })).status, 200)
  t.strictSame(await aliceClosed, { code: 4401, reason: 'token revoked' })
  await stillOpen(t, bob, 'another user\'s password socket')
  // A revocation is a logout, not a new password: the password opens a new socket.
  const again = await passwordSocket(t, server, ALICE)
  again.close()
  bob.close()
  await stillServes(t, server)
})

t.test('POST /revoke of a refresh token closes them, even with no live access token left to revoke', async (t) => {
  const server = await serverWithBasic(t)
  const tokens = await login(server)
  const alice = await passwordSocket(t, server, ALICE)
  const byToken = (await opened(server.wsUrl, bearer(tokens.access_token))).socket
  await nextMessage(byToken)
  const closes = [closed(alice), closed(byToken)]
  t.equal((await postForm(`${server.base}/revoke`, { token: tokens.refresh_token })).status, 200)
  t.strictSame(await Promise.all(closes), [{ code: 4401, reason: 'token revoked' }, { code: 4401, reason: 'token revoked' }])
  await stillServes(t, server)
})

t.test('revokeFamilyOf and disconnect close them too; an unknown token closes nothing', async (t) => {
  const server = await serverWithBasic(t)
  const tokens = await login(server)
  const alice = await passwordSocket(t, server, ALICE)
  t.equal(await server.app.passwordBearer.revokeFamilyOf('not-a-refresh-token'), false)
  t.equal((await postForm(`${server.base}/revoke`, { token: 'not-a-token' })).status, 200)
  await stillOpen(t, alice, 'after revoking unknown tokens, the password socket')
  const aliceClosed = closed(alice)
  t.equal(await server.app.passwordBearer.revokeFamilyOf(tokens.refresh_token), true)
  t.strictSame(await aliceClosed, { code: 4401, reason: 'token revoked' })

  const again = await passwordSocket(t, server, ALICE)
  const againClosed = closed(again)
  t.equal(server.app.wsAuth.disconnect('alice'), 1)
  t.strictSame(await againClosed, { code: 4401, reason: 'token revoked' })
  await stillServes(t, server)
})
