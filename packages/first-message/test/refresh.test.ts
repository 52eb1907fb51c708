// In-band refresh on live sockets (first-message and handshake transports), and its close codes, over real TCP.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t from 'tap'
import { CHANNELS, type FailedEvent, type LiveSocketEvent } from '@wsauth/ws-bearer'
import { closed, nextMessage, opened } from '../../../test/helpers/ws.ts'
import {
  authMessage, authenticated, build, claimsOf, parsed, refreshMessage, sendInOneWrite, stillServes,
} from './fixture.ts'

type Socket = Awaited<ReturnType<typeof opened>>['socket']

async function bearerSocket (t: Parameters<typeof build>[0], url: string, token: string, welcome: string): Promise<Socket> {
  const { socket } = await opened(url, { headers: { authorization: `Bearer ${token}` } })
  t.equal(await nextMessage(socket), welcome)
  return socket
}

t.test('auth.refresh with a token of the same subject: auth.ok with the new expiry, on both transports', async (t) => {
  const fx = await build(t)
  const refreshed: LiveSocketEvent[] = []
  const listener = (event: unknown): void => { refreshed.push(event as LiveSocketEvent) }
  subscribe(CHANNELS.refreshed, listener)
  t.teardown(() => { unsubscribe(CHANNELS.refreshed, listener) })

  const sockets = [
    { name: 'first message', socket: await authenticated(t, fx, '/fm', fx.sign('alice', { jti: 'fm-1' })), jti: 'fm' },
    { name: 'Bearer handshake', socket: await bearerSocket(t, fx.url('/ws'), fx.sign('alice', { jti: 'ws-1' }), 'Welcome alice!'), jti: 'ws' },
  ]
  for (const { name, socket, jti } of sockets) {
    const next = fx.sign('alice', { jti: `${jti}-2`, expiresIn: 1200 })
    socket.send(refreshMessage(next))
    t.strictSame(parsed(await nextMessage(socket)), { type: 'auth.ok', expiresAt: claimsOf(next).exp * 1000 }, `${name}: auth.ok`)
    socket.send('after')
    t.equal(await nextMessage(socket), 'You wrote: after', `${name}: still open`)
    t.equal(fx.app.wsAuth.disconnectToken(`${jti}-1`), 0, `${name}: no longer indexed under the old token id`)
    const done = closed(socket)
    t.equal(fx.app.wsAuth.disconnectToken(`${jti}-2`), 1, `${name}: indexed under the new one`)
    t.strictSame(await done, { code: 4401, reason: 'token revoked' })
  }
  t.strictSame(fx.received, ['/fm after', '/ws after'], 'no refresh message reached the app')
  t.match(refreshed, [
    { subject: 'alice', transport: 'first-message', tokenId: 'fm-2' },
    { subject: 'alice', transport: 'bearer', tokenId: 'ws-2' },
  ], 'refreshed events keep the transport the socket authenticated by')
  t.notOk(JSON.stringify(refreshed).includes('eyJ'), 'no token in the events')
})

t.test('refresh failures close the socket with the table code; the server keeps serving', async (t) => {
  const fx = await build(t, { guard: { maxCredentialLength: 300 } })
  const failures: FailedEvent[] = []
  const listener = (event: unknown): void => { failures.push(event as FailedEvent) }
  subscribe(CHANNELS.failed, listener)
  t.teardown(() => { unsubscribe(CHANNELS.failed, listener) })
  const revoked = fx.sign('bob', { jti: 'bob-revoked' })
  await fx.app.wsAuth.revokeToken('bob-revoked', claimsOf(revoked).exp * 1000)

  const cases: Array<[string, string, string, number, string]> = [
    ["another user's token", '/fm', refreshMessage(fx.sign('mallory')), 4403, 'forbidden'],
    ["another user's token, Bearer socket", '/ws', refreshMessage(fx.sign('mallory')), 4403, 'forbidden'],
    ['an invalid token', '/fm', refreshMessage('junk'), 4401, 'invalid token'],
    ['an expired token', '/ws', refreshMessage(fx.sign('bob', { expiresIn: -10 })), 4401, 'invalid token'],
    ['a revoked token', '/fm', refreshMessage(revoked), 4401, 'invalid token'],
    ['no token', '/fm', JSON.stringify({ type: 'auth.refresh' }), 4400, 'bad request'],
    ['a token over the length cap', '/ws', refreshMessage('a'.repeat(301)), 4400, 'bad request'],
    ['not allowed any more', '/fm-admin', refreshMessage(fx.sign('bob', { scope: 'chat' })), 4403, 'forbidden'],
  ]
  for (const [name, path, message, code, reason] of cases) {
    const token = fx.sign('bob', { scope: 'admin' })
    const socket = path === '/ws'
      ? await bearerSocket(t, fx.url(path), token, 'Welcome bob!')
      : await authenticated(t, fx, path, token)
    const done = closed(socket)
    socket.send(message)
    t.strictSame(await done, { code, reason }, `${name}: ${code}`)
    t.equal(await nextMessage(socket).catch(() => null), null, `${name}: no auth.ok`)
  }
  t.strictSame(fx.received, [], 'no refresh message reached the app')
  t.equal(fx.app.wsAuth.connectionCount('bob'), 0)
  t.match(failures[0], { outcome: 'forbidden', transport: 'first-message', route: '/fm', phase: 'refresh' })
  t.match(failures[1], { outcome: 'forbidden', transport: 'bearer', route: '/ws', phase: 'refresh' })
  t.equal(failures.length, cases.length)
  await stillServes(t, fx)
})

t.test('without refresh on the route, an auth.refresh message is an ordinary message', async (t) => {
  const fx = await build(t)
  const message = refreshMessage(fx.sign('carol'))
  const plain = await bearerSocket(t, fx.url('/plain'), fx.sign('carol'), 'Welcome carol!')
  plain.send(message)
  t.equal(await nextMessage(plain), `You wrote: ${message}`)
  const fmOnly = await authenticated(t, fx, '/fm-only', fx.sign('carol'))
  fmOnly.send(message)
  t.equal(await nextMessage(fmOnly), `You wrote: ${message}`)
  plain.close()
  fmOnly.close()
})

t.test('refresh messages are recognised however the JSON is written; look-alikes go to the app', async (t) => {
  const fx = await build(t)
  const socket = await authenticated(t, fx, '/fm', fx.sign('dave'))
  const token = fx.sign('dave', { expiresIn: 900 })
  for (const message of [
    `  \n{"type":"auth.refresh","token":"${token}"}`,
    `{"type":"auth\\u002erefresh","token":"${token}"}`,
    `{"\\u0074ype":"auth.refresh","token":"${token}"}`,
    `{"token":"${token}","type":"auth.refresh"}`,
  ]) {
    socket.send(message)
    t.equal(parsed(await nextMessage(socket)).type, 'auth.ok', JSON.stringify(message.slice(0, 30)))
  }
  const lookAlikes = [
    'auth.refresh',
    '["auth.refresh"]',
    '{"type":"auth.refreshed"}',
    '{"kind":"auth.refresh"}',
    '{"type":"chat","text":"auth.refresh"}',
    '{"type":"auth.refresh"',
  ]
  for (const message of lookAlikes) {
    socket.send(message)
    t.equal(await nextMessage(socket), `You wrote: ${message}`, message)
  }
  socket.send(Buffer.from(refreshMessage(token)))
  t.equal(await nextMessage(socket), `You wrote: ${refreshMessage(token)}`, 'a binary frame is never a protocol message')
  t.strictSame(fx.received, [...lookAlikes, refreshMessage(token)].map((message) => `/fm ${message}`))
  socket.close()
})

t.test('a refresh pipelined behind the auth message is a refresh, and the messages around it keep their order', async (t) => {
  const fx = await build(t)
  const { socket } = await opened(fx.url('/fm'))
  const next = fx.sign('erin', { expiresIn: 1200 })
  sendInOneWrite(socket, [authMessage(fx.sign('erin')), 'one', refreshMessage(next), 'two', 'three'])
  const seen: string[] = []
  while (seen.length < 6) seen.push(await nextMessage(socket))
  t.equal(parsed(seen[0]!).type, 'auth.ok')
  t.equal(seen[1], 'Welcome erin!')
  t.strictSame(seen.filter((text) => text.startsWith('You wrote')), ['You wrote: one', 'You wrote: two', 'You wrote: three'])
  t.ok(seen.some((text) => text.startsWith('{') && parsed(text).expiresAt === claimsOf(next).exp * 1000), 'the refresh was answered')
  t.strictSame(fx.received, ['/fm one', '/fm two', '/fm three'])
  socket.close()
})

t.test('custom message names', async (t) => {
  const fx = await build(t, {
    firstMessage: { messages: { typeKey: 'op', tokenKey: 'jwt', auth: 'login', refresh: 'renew', ok: 'welcome', expiring: 'soon' } },
  })
  const { socket } = await opened(fx.url('/fm'))
  socket.send(authMessage(fx.sign('frank')))
  t.strictSame(await closed(socket), { code: 4401, reason: 'unauthorized' }, 'the default names are just another message')
  const renamed = await opened(fx.url('/fm'))
  renamed.socket.send(JSON.stringify({ op: 'login', jwt: fx.sign('frank') }))
  t.match(JSON.parse(await nextMessage(renamed.socket)), { op: 'welcome' })
  t.equal(await nextMessage(renamed.socket), 'Welcome frank!')
  renamed.socket.send(JSON.stringify({ op: 'renew', jwt: fx.sign('frank', { expiresIn: 900 }) }))
  t.match(JSON.parse(await nextMessage(renamed.socket)), { op: 'welcome' })
  renamed.socket.close()
})

t.test('options are checked at registration: a startup error naming the option', async (t) => {
  const P = '@wsauth/first-message: option'
  for (const [options, message] of [
    [{ timeout: 1000 }, `${P} "timeout" is not an option of @wsauth/first-message`],
    [{ timeoutMs: 0 }, `${P} "timeoutMs" must be an integer >= 1; got 0`],
    [{ timeoutMs: Number.NaN }, `${P} "timeoutMs" must be an integer >= 1; got NaN`],
    [{ timeoutMs: 1.5 }, `${P} "timeoutMs" must be an integer >= 1; got 1.5`],
    [{ timeoutMs: '5000' }, `${P} "timeoutMs" must be an integer >= 1; got a string`],
    [{ maxPayload: 1.5 }, `${P} "maxPayload" must be an integer >= 1; got 1.5`],
    [{ maxPayload: -1 }, `${P} "maxPayload" must be an integer >= 1; got -1`],
    [{ expiringNoticeMs: -1 }, `${P} "expiringNoticeMs" must be an integer >= 0; got -1`],
    [{ messages: 'auth' }, `${P} "messages" must be an object; got a string`],
    [{ messages: { login: 'x' } }, `${P} "messages.login" is not an option of @wsauth/first-message`],
    [{ messages: { auth: '' } }, `${P} "messages.auth" must be a non-empty string; got a string`],
    [{ messages: { typeKey: 'x', tokenKey: 'x' } }, `${P} "messages" must name different keys for typeKey and tokenKey`],
    [{ messages: { refresh: 'auth' } }, `${P} "messages" must name four different message types`],
  ] as const) {
    await t.rejects(build(t, { firstMessage: options as never }), { name: 'WsAuthOptionsError', message }, message)
  }
  const fx = await build(t, { firstMessage: { expiringNoticeMs: 0, timeoutMs: 1000 } })
  await stillServes(t, fx)
})
