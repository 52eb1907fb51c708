// Sockets opened with `Basic user:password` (issue 8, defect 4): they carry no token, so before the fix they never
// expired and nothing but `disconnect` could close them. Now they live `basic.lifetime` (or what the verifier says),
// and revoking any token of their subject with `{ subject }`, or `disconnectPasswords`, closes them. Expiry is driven
// by the guard's clock, never by waiting.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t from 'tap'
import { CHANNELS, EXPIRY_TICK_MS, type AuthenticatedEvent } from '@wsauth/ws-bearer'
import { closed, nextMessage, opened } from '../../../test/helpers/ws.ts'
import { basic, bearer, build, type Fixture } from '../../../test/helpers/index.ts'

const ORIGIN = 'http://localhost:8000'
const PASSWORDS = new Map([['alice', 'alice-pw'], ['bob', 'bob-pw'], ['carol', 'carol-pw']])

async function clockFixture (t: Parameters<typeof build>[0], lifetime?: number): Promise<{ fx: Fixture, now: () => number, advanceTo: (time: number) => void }> {
  let current = Date.now()
  const fx = await build(t, {
    guard: {
      clock: () => current,
      origins: [ORIGIN],
      basic: {
        ...(lifetime === undefined ? {} : { lifetime }),
        async verifyPassword (username, password) {
          if (PASSWORDS.get(username) !== password) return null
          // carol's verifier says how long her login lives.
          return username === 'carol' ? { subject: username, expiresAt: current + 5_000 } : { subject: username }
        },
      },
    },
  })
  return { fx, now: () => current, advanceTo: (time) => { current = time } }
}

async function welcomed (fx: Fixture, options: Parameters<typeof opened>[1], subject: string): Promise<Awaited<ReturnType<typeof opened>>['socket']> {
  const { socket } = await opened(fx.url(), options)
  const welcome = await nextMessage(socket)
  if (welcome !== `Welcome ${subject}!`) throw new Error(`expected the welcome of ${subject}, got ${welcome}`)
  return socket
}

t.test('a password socket lives basic.lifetime, then closes with 4401 token expired; the verifier\'s own expiry wins', async (t) => {
  const c = await clockFixture(t, 60)
  const events: AuthenticatedEvent[] = []
  const listener = (event: unknown): void => { events.push(event as AuthenticatedEvent) }
  subscribe(CHANNELS.authenticated, listener)
  t.teardown(() => { unsubscribe(CHANNELS.authenticated, listener) })
  const start = c.now()

  const alice = await welcomed(c.fx, basic('alice:alice-pw'), 'alice')
  const carol = await welcomed(c.fx, basic('carol:carol-pw'), 'carol')
  t.match(events, [
    { subject: 'alice', transport: 'basic', tokenId: null, expiresAt: start + 60_000 },
    { subject: 'carol', transport: 'basic', tokenId: null, expiresAt: start + 5_000 },
  ])

  c.advanceTo(start + 5_000 + EXPIRY_TICK_MS)
  t.strictSame(await closed(carol), { code: 4401, reason: 'token expired' }, 'carol, at her verifier\'s expiry')
  alice.send('still here')
  t.equal(await nextMessage(alice), 'You wrote: still here', 'alice lives on')
  c.advanceTo(start + 60_000 + EXPIRY_TICK_MS)
  t.strictSame(await closed(alice), { code: 4401, reason: 'token expired' }, 'alice, at the lifetime')
  t.equal(c.fx.app.wsAuth.connectionCount(), 0)

  // The password is still good: a new login opens a new socket with a new lifetime.
  const again = await welcomed(c.fx, basic('alice:alice-pw'), 'alice')
  t.match(events.at(-1), { subject: 'alice', expiresAt: c.now() + 60_000 })
  again.close()
})

t.test('the default lifetime is 900 s', async (t) => {
  const c = await clockFixture(t)
  const start = c.now()
  const alice = await welcomed(c.fx, basic('alice:alice-pw'), 'alice')
  // carol's socket lives 5 s from when it opens: once it has closed, the sweep has run past 895 s.
  c.advanceTo(start + 890_000)
  const witness = await welcomed(c.fx, basic('carol:carol-pw'), 'carol')
  c.advanceTo(start + 895_000 + EXPIRY_TICK_MS)
  await closed(witness)
  alice.send('before')
  t.equal(await nextMessage(alice), 'You wrote: before', 'open at 895 s')
  c.advanceTo(start + 900_000 + EXPIRY_TICK_MS)
  t.strictSame(await closed(alice), { code: 4401, reason: 'token expired' }, 'closed at 900 s')
})

t.test('revokeToken with the subject closes the subject\'s password sockets; disconnectPasswords and disconnect do too', async (t) => {
  const c = await clockFixture(t)
  const { wsAuth } = c.fx.app
  const token = c.fx.sign({ sub: 'alice' }, { jti: 'alice-1', expiresIn: 600 })
  const otherToken = c.fx.sign({ sub: 'alice' }, { jti: 'alice-2', expiresIn: 600 })

  const password = await welcomed(c.fx, basic('alice:alice-pw'), 'alice')
  const byToken = await welcomed(c.fx, bearer(token), 'alice')
  const byOtherToken = await welcomed(c.fx, bearer(otherToken), 'alice')
  const bob = await welcomed(c.fx, basic('bob:bob-pw'), 'bob')
  const closes = [closed(password), closed(byToken)]
  t.equal(await wsAuth.revokeToken('alice-1', Date.now() + 600_000, { subject: 'alice' }), 2, 'the token\'s socket and the password socket')
  t.strictSame(await Promise.all(closes), [{ code: 4401, reason: 'token revoked' }, { code: 4401, reason: 'token revoked' }])
  for (const [name, socket] of [['another token of alice', byOtherToken], ['bob\'s password socket', bob]] as const) {
    socket.send('ping')
    t.equal(await nextMessage(socket), 'You wrote: ping', `${name} stays open`)
  }

  const withoutSubject = await welcomed(c.fx, basic('alice:alice-pw'), 'alice')
  t.equal(await wsAuth.revokeToken('alice-9', Date.now() + 600_000), 0, 'without the subject, password sockets are not touched')
  withoutSubject.send('ping')
  t.equal(await nextMessage(withoutSubject), 'You wrote: ping')

  const withdrawn = closed(withoutSubject)
  t.equal(wsAuth.disconnectPasswords('alice', 'withdrawn'), 1, 'disconnectPasswords: only the password socket')
  t.strictSame(await withdrawn, { code: 4403, reason: 'access withdrawn' })
  byOtherToken.send('ping')
  t.equal(await nextMessage(byOtherToken), 'You wrote: ping', 'the token socket stays open')

  const bobClosed = closed(bob)
  t.equal(wsAuth.disconnect('bob'), 1, 'disconnect reaches password sockets too')
  t.strictSame(await bobClosed, { code: 4401, reason: 'token revoked' })
  byOtherToken.close()
})
