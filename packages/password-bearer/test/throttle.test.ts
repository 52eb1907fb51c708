import t from 'tap'
import { MemoryFailureCounter, MemoryRefreshTokenStore, type FailureCounter, type RefreshTokenStore } from '@wsauth/core'
import { nextMessage, opened } from '../../../test/helpers/ws.js'
import { ALICE, bearer, login, postForm, startServer, stillServes, type Answer, type Test, type TestServer } from './fixture.js'

const WINDOW_MS = 60_000

function clock (): { now: () => number, advance: (ms: number) => void } {
  let current = 1_000_000
  return { now: () => current, advance: (ms) => { current += ms } }
}

function attempt (server: TestServer, username: string, password: string, ip?: string): Promise<Answer> {
  return postForm(`${server.base}/token`, { grant_type: 'password', username, password }, ip === undefined ? {} : { 'x-forwarded-for': ip })
}

function assertThrottled (t: Test, result: Answer, retryAfter: number): void {
  t.equal(result.status, 429)
  t.equal(result.headers.get('retry-after'), String(retryAfter), `Retry-After: ${retryAfter}`)
  t.same(result.json, { error: 'too_many_requests', error_description: 'too many failed logins' })
  t.match(result.headers.get('content-type'), /^application\/json/)
  t.equal(result.headers.get('cache-control'), 'no-store')
}

/** A counter whose `attempt` throws while `down`, as a Redis counter does while Redis is. */
function flakyCounter (): { counter: FailureCounter, down: boolean } {
  const inner = new MemoryFailureCounter({ limit: 5, windowMs: WINDOW_MS })
  const flaky = {
    down: true,
    counter: {
      blockedFor: (key) => inner.blockedFor(key),
      fail: (key) => inner.fail(key),
      async attempt (key) {
        if (flaky.down) throw new Error('redis is down')
        return await inner.attempt(key)
      },
      forgive: (key) => inner.forgive(key),
      reset: (key) => inner.reset(key),
    } satisfies FailureCounter,
  }
  return flaky
}

t.test('per username: blocked after the limit, then served again once the window passes', async (t) => {
  const time = clock()
  const server = await startServer(t, {
    throttle: {
      username: new MemoryFailureCounter({ limit: 3, windowMs: WINDOW_MS, now: time.now }),
      ip: new MemoryFailureCounter({ limit: 100, windowMs: WINDOW_MS, now: time.now }),
    },
  })
  await server.users.add('bob', 'hunter2', { scopes: ['chat:read'] })
  const earlier = await login(server)
  for (let i = 0; i < 3; i++) t.equal((await attempt(server, ALICE.username, `wrong ${i}`)).status, 400)
  assertThrottled(t, await attempt(server, ALICE.username, ALICE.password), 60)
  time.advance(15_000)
  assertThrottled(t, await attempt(server, ALICE.username, 'wrong'), 45)

  t.equal((await attempt(server, 'bob', 'hunter2')).status, 200, 'another user logs in from the same IP')
  const refreshed = await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: earlier.refresh_token })
  t.equal(refreshed.status, 200, 'alice\'s refresh token still works')
  const { socket } = await opened(server.wsUrl, bearer(refreshed.json.access_token))
  t.match(JSON.parse(await nextMessage(socket)), { subject: 'alice' }, 'and so do her sockets')
  socket.terminate()

  time.advance(45_000)
  t.equal((await attempt(server, ALICE.username, ALICE.password)).status, 200, 'after the window')
})

t.test('per username: unknown usernames are counted the same way', async (t) => {
  const server = await startServer(t, { throttle: { username: new MemoryFailureCounter({ limit: 2, windowMs: WINDOW_MS, now: clock().now }) } })
  for (let i = 0; i < 2; i++) t.equal((await attempt(server, 'mallory', 'guess')).status, 400)
  assertThrottled(t, await attempt(server, 'mallory', 'guess'), 60)
  await stillServes(t, server)
})

t.test('per username: a successful login clears the username\'s count', async (t) => {
  const server = await startServer(t, { throttle: { username: new MemoryFailureCounter({ limit: 3, windowMs: WINDOW_MS }) } })
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 2; i++) t.equal((await attempt(server, ALICE.username, 'wrong')).status, 400)
    t.equal((await attempt(server, ALICE.username, ALICE.password)).status, 200, `round ${round}: not blocked`)
  }
})

t.test('per IP: blocked after the limit across usernames; other IPs are served', async (t) => {
  const server = await startServer(t, {
    throttle: {
      username: new MemoryFailureCounter({ limit: 100, windowMs: WINDOW_MS }),
      ip: new MemoryFailureCounter({ limit: 4, windowMs: WINDOW_MS, now: clock().now }),
    },
  }, { fastify: { trustProxy: true } })
  const attacker = '203.0.113.7'
  const neighbour = '198.51.100.2'
  for (let i = 0; i < 3; i++) t.equal((await attempt(server, `user${i}`, 'guess', attacker)).status, 400)
  t.equal((await attempt(server, ALICE.username, ALICE.password, attacker)).status, 200, 'under the limit')
  t.equal((await attempt(server, 'user3', 'guess', attacker)).status, 400, 'a success did not clear the IP\'s count')
  assertThrottled(t, await attempt(server, ALICE.username, ALICE.password, attacker), 60)
  assertThrottled(t, await attempt(server, 'user4', 'guess', attacker), 60)
  t.equal((await attempt(server, ALICE.username, ALICE.password, neighbour)).status, 200, 'another IP is served')
  assertThrottled(t, await attempt(server, ALICE.username, ALICE.password, attacker), 60)
})

t.test('the defaults: 5 failures per username, 20 per IP, in 15-minute windows', async (t) => {
  const server = await startServer(t, {}, { fastify: { trustProxy: true } })
  const start = Date.now()
  for (let i = 0; i < 5; i++) t.equal((await attempt(server, ALICE.username, 'wrong', '192.0.2.1')).status, 400)
  const byUsername = await attempt(server, ALICE.username, ALICE.password, '192.0.2.2')
  const elapsed = Date.now() - start
  t.equal(byUsername.status, 429, 'the sixth try for the username, from anywhere')
  // The window opened with the first failure, somewhere in `elapsed`: 15 minutes, less at most that much.
  const retryAfter = Number(byUsername.headers.get('retry-after'))
  t.ok(retryAfter <= 900 && retryAfter >= Math.ceil((900_000 - elapsed) / 1000), `15 minutes from the first failure (${retryAfter} s)`)

  for (let i = 0; i < 20; i++) t.equal((await attempt(server, `user${i}`, 'guess', '192.0.2.3')).status, 400)
  const byIp = await attempt(server, 'bob', 'guess', '192.0.2.3')
  t.equal(byIp.status, 429, 'the 21st failure from one IP')
  t.equal((await attempt(server, 'bob', 'guess', '192.0.2.4')).status, 400, 'another IP is not blocked')
})

t.test('guesses sent in parallel cannot all slip past the throttle', async (t) => {
  const server = await startServer(t)
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(server, ALICE.username, `guess-${i}`)))
  const statuses = answers.map((answer) => answer.status)
  t.equal(statuses.filter((status) => status === 400).length, 5, 'exactly the limit of passwords were checked')
  t.equal(statuses.filter((status) => status === 429).length, 35, 'the rest were refused before any hashing')
  t.equal((await attempt(server, ALICE.username, ALICE.password)).status, 429, 'the username stays blocked')
  t.equal((await attempt(server, 'someone-else', 'guess')).status, 400, 'the server keeps serving')
})

t.test('a username over 256 characters: 400 invalid_request, before any throttle or hashing', async (t) => {
  const server = await startServer(t)
  const result = await attempt(server, 'x'.repeat(257), 'guess')
  t.equal(result.status, 400)
  t.same(result.json, { error: 'invalid_request', error_description: 'username too long' })
  t.equal((await attempt(server, ALICE.username, ALICE.password)).status, 200, 'the server keeps serving')
})

t.test('a counter that fails: 503, and the server recovers with it', async (t) => {
  const flaky = flakyCounter()
  const server = await startServer(t, { throttle: { ip: flaky.counter } })
  const result = await attempt(server, ALICE.username, ALICE.password)
  t.equal(result.status, 503)
  t.same(result.json, { error: 'temporarily_unavailable', error_description: 'try again later' })
  t.match(server.logs.join(''), 'redis is down', 'the cause is logged')
  flaky.down = false
  await stillServes(t, server)
})

function refreshWith (server: TestServer, refreshToken: string, fields: Record<string, string> = {}, ip?: string): Promise<Answer> {
  return postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, ...fields },
    ip === undefined ? {} : { 'x-forwarded-for': ip })
}

function assertRefreshThrottled (t: Test, result: Answer, retryAfter: number): void {
  t.equal(result.status, 429)
  t.equal(result.headers.get('retry-after'), String(retryAfter), `Retry-After: ${retryAfter}`)
  t.same(result.json, { error: 'too_many_requests', error_description: 'too many failed refresh attempts' })
  t.equal(result.headers.get('cache-control'), 'no-store')
}

const UNKNOWN_FAMILY = `${'A'.repeat(22)}.${'B'.repeat(43)}`

t.test('failed refreshes per IP: malformed, unknown and spent tokens count; blocked, then served once the window passes', async (t) => {
  const time = clock()
  const server = await startServer(t, {
    throttle: { refreshIp: new MemoryFailureCounter({ limit: 3, windowMs: WINDOW_MS, now: time.now }) },
  }, { fastify: { trustProxy: true } })
  const attacker = '203.0.113.7'
  const tokens = await login(server)
  const spent = tokens.refresh_token
  const current = (await refreshWith(server, spent)).json.refresh_token
  t.equal((await refreshWith(server, 'malformed', {}, attacker)).status, 400)
  t.equal((await refreshWith(server, UNKNOWN_FAMILY, {}, attacker)).status, 400)
  const other = await login(server)
  const otherCurrent = (await refreshWith(server, other.refresh_token)).json.refresh_token
  t.equal((await refreshWith(server, other.refresh_token, {}, attacker)).status, 400, 'a spent token (and its family is ended)')
  assertRefreshThrottled(t, await refreshWith(server, current, {}, attacker), 60)
  t.equal((await refreshWith(server, current, {}, '198.51.100.2')).status, 200, 'another IP is served, and the blocked try spent nothing')
  time.advance(WINDOW_MS)
  t.equal((await refreshWith(server, otherCurrent, {}, attacker)).status, 400, 'after the window: served (that family was ended)')
  t.equal((await attempt(server, ALICE.username, ALICE.password, attacker)).status, 200, 'logins are counted apart')
  await stillServes(t, server)
})

t.test('successful refreshes, and a valid token refused for its scope, are not failures', async (t) => {
  const server = await startServer(t, { throttle: { refreshIp: new MemoryFailureCounter({ limit: 2, windowMs: WINDOW_MS, now: clock().now }) } })
  let tokens = await login(server)
  for (let i = 0; i < 6; i++) {
    t.equal((await refreshWith(server, tokens.refresh_token, { scope: 'admin' })).status, 400, 'invalid_scope')
    const result = await refreshWith(server, tokens.refresh_token)
    t.equal(result.status, 200, `refresh ${i}`)
    tokens = result.json
  }
  await stillServes(t, server)
})

t.test('failed refreshes per confidential client, across IPs; a public client is counted per IP only', async (t) => {
  const server = await startServer(t, {
    clients: [{ id: 'backend', secret: 'backend secret' }, { id: 'web' }],
    throttle: {
      refreshIp: new MemoryFailureCounter({ limit: 100, windowMs: WINDOW_MS, now: clock().now }),
      refreshClient: new MemoryFailureCounter({ limit: 2, windowMs: WINDOW_MS, now: clock().now }),
    },
  }, { fastify: { trustProxy: true } })
  const backend = { client_id: 'backend', client_secret: 'backend secret' }
  const tokens = await login(server, backend)
  t.equal((await refreshWith(server, UNKNOWN_FAMILY, backend, '192.0.2.1')).status, 400)
  t.equal((await refreshWith(server, 'malformed', backend, '192.0.2.2')).status, 400)
  assertRefreshThrottled(t, await refreshWith(server, tokens.refresh_token, backend, '192.0.2.3'), 60)

  for (let i = 0; i < 5; i++) t.equal((await refreshWith(server, UNKNOWN_FAMILY, { client_id: 'web' }, `192.0.2.${10 + i}`)).status, 400)
  const web = await login(server, { client_id: 'web' })
  t.equal((await refreshWith(server, web.refresh_token, { client_id: 'web' })).status, 200,
    'anyone can send a public client\'s id: its failures never block its users')
})

t.test('failed refreshes sent in parallel cannot all slip past the throttle, and a blocked one costs no store lookup', async (t) => {
  const inner = new MemoryRefreshTokenStore()
  let lookups = 0
  const counting: RefreshTokenStore = {
    create: (familyId, family) => inner.create(familyId, family),
    find: async (familyId) => { lookups++; return await inner.find(familyId) },
    rotate: (familyId, expectedHash, next) => inner.rotate(familyId, expectedHash, next),
    delete: (familyId) => inner.delete(familyId),
  }
  const server = await startServer(t, { refreshTokens: counting, throttle: { refreshIp: new MemoryFailureCounter({ limit: 3, windowMs: WINDOW_MS, now: clock().now }) } })
  const answers = await Promise.all(Array.from({ length: 20 }, () => refreshWith(server, UNKNOWN_FAMILY)))
  t.equal(answers.filter((answer) => answer.status === 400).length, 3, 'exactly the limit were looked at')
  t.equal(answers.filter((answer) => answer.status === 429).length, 17)
  t.equal(lookups, 3, 'the refused ones never reached the store')
  await stillServes(t, server)
})

t.test('a refresh counter that fails: 503, and the server recovers with it', async (t) => {
  const flaky = flakyCounter()
  const server = await startServer(t, { throttle: { refreshIp: flaky.counter } })
  const tokens = await login(server)
  const result = await refreshWith(server, tokens.refresh_token)
  t.equal(result.status, 503)
  t.same(result.json, { error: 'temporarily_unavailable', error_description: 'try again later' })
  flaky.down = false
  t.equal((await refreshWith(server, tokens.refresh_token)).status, 200, 'the token was not spent')
  await stillServes(t, server)
})
