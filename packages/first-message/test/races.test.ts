// Races on live sockets, decided by a controllable clock and by verifiers and stores held at chosen points: expiry
// against refresh, revocation against refresh and against first-message authentication, and `auth.expiring`.
import t from 'tap'
import { MemoryDenyList, type DenyList } from '@wsauth/core'
import { EXPIRY_TICK_MS, type IdentityInit } from '@wsauth/ws-bearer'
import { closed, nextMessage, opened } from '../../../test/helpers/ws.ts'
import { authMessage, build, gate, parsed, refreshMessage, type Fixture } from './fixture.ts'

type Socket = Awaited<ReturnType<typeof opened>>['socket']

const MINUTE = 60_000
// Expiry is swept in ticks: a socket closes once the clock reaches the end of the tick its `exp` falls in.
const SWEPT = EXPIRY_TICK_MS

/**
 * A fixture whose guard verifies opaque tokens from a table and reads a clock the test moves. `hold(token)` makes the
 * next verification of that token wait until the returned gate is opened; `holdDenyList()` does the same for the next
 * denylist check, which answers as of when it was asked.
 */
async function clockFixture (t: Parameters<typeof build>[0]): Promise<{
  fx: Fixture
  now: () => number
  advanceTo: (time: number) => void
  token: (name: string, init: IdentityInit) => string
  hold: (token: string) => { called: Promise<void>, open: () => void }
  holdDenyList: () => { called: Promise<void>, open: () => void }
}> {
  const start = Date.now()
  let current = start
  const tokens = new Map<string, IdentityInit>()
  const holds = new Map<string, { called: () => void, until: Promise<void> }>()
  const memory = new MemoryDenyList()
  let denyListHold: { called: () => void, until: Promise<void> } | null = null
  const denyList: DenyList = {
    add: (tokenId, expiresAt) => memory.add(tokenId, expiresAt),
    async has (tokenId) {
      const answer = await memory.has(tokenId)
      const held = denyListHold
      denyListHold = null
      if (held !== null) {
        held.called()
        await held.until
      }
      return answer
    },
  }
  const fx = await build(t, {
    guard: {
      clock: () => current,
      denyList,
      async verify (token) {
        const held = holds.get(token)
        if (held !== undefined) {
          holds.delete(token)
          held.called()
          await held.until
        }
        return tokens.get(token) ?? null
      },
    },
  })
  const holder = (): [{ called: () => void, until: Promise<void> }, { called: Promise<void>, open: () => void }] => {
    const called = gate()
    const until = gate()
    return [{ called: () => called.open(), until: until.promise }, { called: called.promise, open: () => until.open() }]
  }
  return {
    fx,
    now: () => current,
    advanceTo: (time) => { current = time },
    token: (name, init) => {
      tokens.set(name, init)
      return name
    },
    hold: (token) => {
      const [held, handle] = holder()
      holds.set(token, held)
      return handle
    },
    holdDenyList: () => {
      const [held, handle] = holder()
      denyListHold = held
      return handle
    },
  }
}

async function authenticate (fx: Fixture, path: string, token: string, subject: string): Promise<Socket> {
  const { socket } = await opened(fx.url(path))
  socket.send(authMessage(token))
  const ok = parsed(await nextMessage(socket))
  if (ok.type !== 'auth.ok') throw new Error(`expected auth.ok, got ${ok.type}`)
  const welcome = await nextMessage(socket)
  if (welcome !== `Welcome ${subject}!`) throw new Error(`expected the welcome, got ${welcome}`)
  return socket
}

/** Every message left on a closed socket. */
async function rest (socket: Socket): Promise<string[]> {
  const messages: string[] = []
  for (;;) {
    const message = await nextMessage(socket).catch(() => null)
    if (message === null) return messages
    messages.push(message)
  }
}

t.test('auth.expiring goes out expiringNoticeMs before expiry; a refresh moves the socket past its old expiry', async (t) => {
  const c = await clockFixture(t)
  const expiresAt = c.now() + 10 * MINUTE
  const socket = await authenticate(c.fx, '/fm', c.token('alice-1', { subject: 'alice', expiresAt, tokenId: 'alice-1' }), 'alice')
  const witness = await opened(c.fx.url('/plain'), { headers: { authorization: `Bearer ${c.token('witness', { subject: 'wit', expiresAt })}` } })
  t.equal(await nextMessage(witness.socket), 'Welcome wit!')

  c.advanceTo(expiresAt - 29_000)
  t.strictSame(parsed(await nextMessage(socket)), { type: 'auth.expiring', expiresAt }, 'the notice, 30 s (default) before')
  socket.send(refreshMessage(c.token('alice-2', { subject: 'alice', expiresAt: expiresAt + 10 * MINUTE, tokenId: 'alice-2' })))
  t.strictSame(parsed(await nextMessage(socket)), { type: 'auth.ok', expiresAt: expiresAt + 10 * MINUTE })

  c.advanceTo(expiresAt + SWEPT)
  t.strictSame(await closed(witness.socket), { code: 4401, reason: 'token expired' }, 'the sweep of the old expiry ran')
  t.strictSame(await rest(witness.socket), [], 'a socket of a route without refresh gets no notice')
  socket.send('still here')
  t.equal(await nextMessage(socket), 'You wrote: still here', 'the refreshed socket outlived its first token')

  c.advanceTo(expiresAt + 10 * MINUTE - 1000)
  t.strictSame(parsed(await nextMessage(socket)), { type: 'auth.expiring', expiresAt: expiresAt + 10 * MINUTE }, 'a notice for the new token')
  c.advanceTo(expiresAt + 10 * MINUTE + SWEPT)
  t.strictSame(await closed(socket), { code: 4401, reason: 'token expired' }, 'and the new expiry is enforced')
})

t.test('a token that lives less than the notice window is told halfway through its life, once per token', async (t) => {
  const c = await clockFixture(t)
  const start = c.now()
  let witnesses = 0
  // Once a witness that expires at `time` is closed, the sweep has run past it: a notice due by then has gone out,
  // and on its socket it comes before anything sent after.
  const sweptPast = async (time: number): Promise<void> => {
    const witness = await opened(c.fx.url('/plain'), {
      headers: { authorization: `Bearer ${c.token(`witness-${++witnesses}`, { subject: 'wit', expiresAt: time })}` },
    })
    t.equal(await nextMessage(witness.socket), 'Welcome wit!')
    c.advanceTo(time + SWEPT)
    await closed(witness.socket)
  }
  const noNoticeYet = async (name: string): Promise<void> => {
    socket.send(name)
    t.equal(await nextMessage(socket), `You wrote: ${name}`, `${name}: no notice before the echo`)
  }

  // 5 s of life against the default 30 s window: the notice is due 2.5 s before expiry, not at once.
  const socket = await authenticate(c.fx, '/fm', c.token('short-1', { subject: 'bob', expiresAt: start + 5000, tokenId: 'short-1' }), 'bob')
  await sweptPast(start + 1500)
  await noNoticeYet('after 2 s')
  c.advanceTo(start + 2500 + SWEPT)
  t.strictSame(parsed(await nextMessage(socket)), { type: 'auth.expiring', expiresAt: start + 5000 }, 'told halfway through its life')

  // A refresh with another short token: not told again right away, but halfway through the new token's life.
  socket.send(refreshMessage(c.token('short-2', { subject: 'bob', expiresAt: start + 8000, tokenId: 'short-2' })))
  t.strictSame(parsed(await nextMessage(socket)), { type: 'auth.ok', expiresAt: start + 8000 })
  await sweptPast(start + 4500)
  await noNoticeYet('right after the refresh')
  c.advanceTo(start + 5500 + SWEPT)
  t.strictSame(parsed(await nextMessage(socket)), { type: 'auth.expiring', expiresAt: start + 8000 }, 'the new token is told once too')

  // The same token again: it has had its notice.
  socket.send(refreshMessage('short-2'))
  t.strictSame(parsed(await nextMessage(socket)), { type: 'auth.ok', expiresAt: start + 8000 })
  await sweptPast(start + 7000)
  await noNoticeYet('after refreshing with the same token')
  c.advanceTo(start + 8000 + SWEPT)
  t.strictSame(await closed(socket), { code: 4401, reason: 'token expired' })
  t.strictSame(await rest(socket), [], 'no second notice for a token, ever')
})

t.test('refresh arriving as the token expires', async (t) => {
  const c = await clockFixture(t)

  t.test('verified after exp, before the sweep: closed as expired, no auth.ok', async (t) => {
    const expiresAt = c.now() + 10 * MINUTE
    const socket = await authenticate(c.fx, '/fm', c.token('a-1', { subject: 'alice', expiresAt }), 'alice')
    const held = c.hold(c.token('a-2', { subject: 'alice', expiresAt: expiresAt + 10 * MINUTE }))
    socket.send(refreshMessage('a-2'))
    await held.called
    // Moving the clock and letting the verification finish in the same tick: the renewal sees the expiry first.
    c.advanceTo(expiresAt)
    held.open()
    t.strictSame(await closed(socket), { code: 4401, reason: 'token expired' })
    t.notOk((await rest(socket)).some((text) => parsed(text).type === 'auth.ok'), 'the refresh was not answered')
    t.equal(c.fx.app.wsAuth.connectionCount('alice'), 0)
  })

  t.test('verified after the sweep closed the socket: nothing is revived', async (t) => {
    const expiresAt = c.now() + 10 * MINUTE
    const socket = await authenticate(c.fx, '/fm', c.token('b-1', { subject: 'bob', expiresAt }), 'bob')
    const held = c.hold(c.token('b-2', { subject: 'bob', expiresAt: expiresAt + 10 * MINUTE }))
    socket.send(refreshMessage('b-2'))
    await held.called
    c.advanceTo(expiresAt + SWEPT)
    t.strictSame(await closed(socket), { code: 4401, reason: 'token expired' })
    held.open()
    t.notOk((await rest(socket)).some((text) => parsed(text).type === 'auth.ok'))
    t.equal(c.fx.app.wsAuth.connectionCount(), 0)
  })

  t.test('verified just before exp: extended', async (t) => {
    const expiresAt = c.now() + 10 * MINUTE
    const socket = await authenticate(c.fx, '/fm', c.token('c-1', { subject: 'carol', expiresAt }), 'carol')
    c.advanceTo(expiresAt - 1)
    socket.send(refreshMessage(c.token('c-2', { subject: 'carol', expiresAt: expiresAt + MINUTE })))
    let answer = parsed(await nextMessage(socket))
    if (answer.type === 'auth.expiring') answer = parsed(await nextMessage(socket))
    t.strictSame(answer, { type: 'auth.ok', expiresAt: expiresAt + MINUTE })
    c.advanceTo(expiresAt + 1)
    socket.send('ping')
    t.equal(await nextMessage(socket), 'You wrote: ping')
    socket.close()
  })
})

t.test("refresh with another user's token, or after revocation", async (t) => {
  const c = await clockFixture(t)
  const expiresAt = c.now() + 10 * MINUTE

  t.test("another user's token: 4403", async (t) => {
    const socket = await authenticate(c.fx, '/fm', c.token('d-1', { subject: 'dave', expiresAt }), 'dave')
    socket.send(refreshMessage(c.token('m-1', { subject: 'mallory', expiresAt: expiresAt + MINUTE })))
    t.strictSame(await closed(socket), { code: 4403, reason: 'forbidden' })
  })

  t.test('a token revoked before the refresh: 4401', async (t) => {
    const socket = await authenticate(c.fx, '/fm', c.token('e-1', { subject: 'erin', expiresAt, tokenId: 'e-1' }), 'erin')
    c.token('e-2', { subject: 'erin', expiresAt: expiresAt + MINUTE, tokenId: 'e-2' })
    await c.fx.app.wsAuth.revokeToken('e-2', expiresAt + MINUTE)
    socket.send(refreshMessage('e-2'))
    t.strictSame(await closed(socket), { code: 4401, reason: 'invalid token' })
  })

  t.test("the socket's token revoked while its refresh is verified: closed as revoked, the refresh unanswered", async (t) => {
    const socket = await authenticate(c.fx, '/fm', c.token('f-1', { subject: 'frank', expiresAt, tokenId: 'f-1' }), 'frank')
    const held = c.hold(c.token('f-2', { subject: 'frank', expiresAt: expiresAt + MINUTE, tokenId: 'f-2' }))
    socket.send(refreshMessage('f-2'))
    await held.called
    t.equal(await c.fx.app.wsAuth.revokeToken('f-1', expiresAt), 1)
    held.open()
    t.strictSame(await closed(socket), { code: 4401, reason: 'token revoked' })
    t.notOk((await rest(socket)).some((text) => parsed(text).type === 'auth.ok'))
    t.equal(c.fx.app.wsAuth.connectionCount('frank'), 0, 'the new token did not bring it back')
  })

  t.test('the new token revoked between its denylist check and the renewal: closed as revoked', async (t) => {
    const socket = await authenticate(c.fx, '/fm', c.token('g-1', { subject: 'grace', expiresAt, tokenId: 'g-1' }), 'grace')
    c.token('g-2', { subject: 'grace', expiresAt: expiresAt + MINUTE, tokenId: 'g-2' })
    const held = c.holdDenyList()
    socket.send(refreshMessage('g-2'))
    await held.called
    t.equal(await c.fx.app.wsAuth.revokeToken('g-2', expiresAt + MINUTE), 0, 'no socket is on g-2 yet')
    held.open()
    t.strictSame(await closed(socket), { code: 4401, reason: 'token revoked' }, 'the check after renewal caught it')
    t.equal(c.fx.app.wsAuth.connectionCount('grace'), 0)
  })
})

t.test('revocation during the first-message wait', async (t) => {
  const c = await clockFixture(t)
  const expiresAt = c.now() + 10 * MINUTE

  t.test('revoked before the auth message arrives: 4401', async (t) => {
    const { socket } = await opened(c.fx.url('/fm'))
    const token = c.token('h-1', { subject: 'heidi', expiresAt, tokenId: 'h-1' })
    await c.fx.app.wsAuth.revokeToken('h-1', expiresAt)
    socket.send(authMessage(token))
    t.strictSame(await closed(socket), { code: 4401, reason: 'invalid token' })
    t.strictSame(await rest(socket), [])
  })

  t.test('revoked while the auth message is verified, before the denylist check: 4401', async (t) => {
    const { socket } = await opened(c.fx.url('/fm'))
    const token = c.token('i-1', { subject: 'ivan', expiresAt, tokenId: 'i-1' })
    const held = c.hold(token)
    socket.send(authMessage(token))
    await held.called
    t.equal(await c.fx.app.wsAuth.revokeToken('i-1', expiresAt), 0, 'not tracked yet')
    held.open()
    t.strictSame(await closed(socket), { code: 4401, reason: 'invalid token' })
    t.strictSame(await rest(socket), [], 'no auth.ok')
  })

  t.test('revoked after the denylist check, before tracking: closed as revoked once tracked', async (t) => {
    const { socket } = await opened(c.fx.url('/fm'))
    const token = c.token('j-1', { subject: 'judy', expiresAt, tokenId: 'j-1' })
    const held = c.holdDenyList()
    socket.send(authMessage(token))
    await held.called
    t.equal(await c.fx.app.wsAuth.revokeToken('j-1', expiresAt), 0, 'not tracked yet')
    held.open()
    t.strictSame(await closed(socket), { code: 4401, reason: 'token revoked' })
    t.equal(c.fx.app.wsAuth.connectionCount('judy'), 0)
  })

  t.test('disconnect(subject) while waiting leaves nothing to close; the later auth is judged on its own', async (t) => {
    const { socket } = await opened(c.fx.url('/fm'))
    t.equal(c.fx.app.wsAuth.disconnect('kim'), 0)
    socket.send(authMessage(c.token('k-1', { subject: 'kim', expiresAt })))
    t.equal(parsed(await nextMessage(socket)).type, 'auth.ok')
    socket.close()
  })
})

t.test('an expired token in the first message, by the guard clock: 4401', async (t) => {
  const c = await clockFixture(t)
  const { socket } = await opened(c.fx.url('/fm'))
  socket.send(authMessage(c.token('old', { subject: 'leo', expiresAt: c.now() })))
  t.strictSame(await closed(socket), { code: 4401, reason: 'invalid token' })
})
