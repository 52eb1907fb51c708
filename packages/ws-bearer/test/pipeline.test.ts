// The guard's pipeline without a socket: plain request-like objects through the steps, each outcome from the one
// table, the one refusal path (log line and event), and the synchronous path kept synchronous.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import t, { type Test } from 'tap'
import type { FastifyRequest } from 'fastify'
import { MemoryDenyList, OriginAllowlist, WsAuthError, type Credential, type DenyList, type Identity } from '@wsauth/core'
import { CHANNELS, type Extractor, type FailedEvent, type IdentityInit } from '@wsauth/ws-bearer'
import { authorizationExtractor, queryExtractor } from '../src/extractors.ts'
import { Pipeline, attempt, type Attempt, type GuardedRoute, type PipelineSettings } from '../src/pipeline.ts'

const NOW = 1_800_000_000_000
const ORIGIN = 'https://app.example'

interface Logged { level: 'info' | 'error', fields: Record<string, unknown>, message: string }

interface FakeRequest { request: FastifyRequest, logged: Logged[] }

/** What the pipeline reads of a request: headers (and their raw lines), the URL and a logger. */
function fakeRequest (options: { url?: string, headers?: Record<string, string>, rawHeaders?: string[] } = {}): FakeRequest {
  const headers = Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]))
  const rawHeaders = options.rawHeaders ?? Object.entries(options.headers ?? {}).flat()
  const logged: Logged[] = []
  const log = (level: Logged['level']) => (fields: Record<string, unknown>, message: string, ...args: unknown[]) => {
    logged.push({ level, fields, message: message.replace('%s', String(args[0])) })
  }
  const url = options.url ?? '/ws'
  const request = {
    url,
    headers,
    raw: { url, headers, rawHeaders },
    routeOptions: { url: '/ws' },
    log: { info: log('info'), error: log('error') },
  }
  return { request: request as unknown as FastifyRequest, logged }
}

const TOKENS: Record<string, IdentityInit> = {
  good: { subject: 'alice', scopes: ['chat'], expiresAt: NOW + 60_000, tokenId: 'good-1' },
  forever: { subject: 'alice' },
  expired: { subject: 'alice', expiresAt: NOW },
  revoked: { subject: 'alice', expiresAt: NOW + 60_000, tokenId: 'revoked-1' },
  bob: { subject: 'bob', expiresAt: NOW + 60_000 },
}

function route (overrides: Partial<GuardedRoute> = {}): GuardedRoute {
  return { url: '/ws', mode: 'http', authorize: undefined, firstMessage: false, refresh: false, ...overrides }
}

async function pipeline (overrides: Partial<PipelineSettings> = {}, extractors?: Extractor[]): Promise<Pipeline> {
  const denyList = new MemoryDenyList({ now: () => NOW })
  await denyList.add('revoked-1', NOW + 60_000)
  const built = new Pipeline({
    origins: new OriginAllowlist([ORIGIN]),
    maxCredentialLength: 100,
    verifyToken: (token) => TOKENS[token] ?? null,
    verifyPassword: async (username, password) => (username === 'carol' && password === 'pw' ? { subject: 'carol' } : null),
    passwordLifetimeMs: 60_000,
    denyList,
    clock: () => NOW,
    challenge: { realm: 'wsauth', basic: true },
    ...overrides,
  })
  for (const extractor of extractors ?? [authorizationExtractor({ tokenUsername: 'token' }), queryExtractor('token')]) {
    built.register(extractor)
  }
  return built
}

/** Runs the handshake: the identity, or the refusal's outcome and message. */
async function handshake (p: Pipeline, fake: FakeRequest, guarded = route()): Promise<Identity | null | { outcome: string, message: string }> {
  const current = attempt(fake.request, guarded, 'handshake')
  try {
    return await p.authenticate(current)
  } catch (thrown) {
    const error = p.refuse(current, thrown)
    return { outcome: error.outcome, message: error.message }
  }
}

function recordFailures (t: Test): FailedEvent[] {
  const events: FailedEvent[] = []
  const listener = (event: unknown): void => { events.push(event as FailedEvent) }
  subscribe(CHANNELS.failed, listener)
  t.teardown(() => { unsubscribe(CHANNELS.failed, listener) })
  return events
}

t.test('synchronous from end to end when every step is: no promise for a JWT and the in-memory denylist', async (t) => {
  const p = await pipeline()
  const result = p.authenticate(attempt(fakeRequest({ headers: { Authorization: 'Bearer good' } }).request, route(), 'handshake'))
  t.notOk(result instanceof Promise, 'not a promise')
  t.strictSame(result, { subject: 'alice', scopes: ['chat'], claims: {}, transport: 'bearer', expiresAt: NOW + 60_000, tokenId: 'good-1' })
  const viaQuery = p.authenticate(attempt(fakeRequest({ url: '/ws?token=forever' }).request, route(), 'handshake'))
  t.strictSame(viaQuery, { subject: 'alice', scopes: [], claims: {}, transport: 'query', expiresAt: null, tokenId: null })
})

t.test('asynchronous where a step is: a verifier, a denylist or authorize that answers with a promise', async (t) => {
  const denyList: DenyList = { add: async () => {}, has: async () => false }
  const cases: Array<[string, Partial<PipelineSettings>, Partial<GuardedRoute>]> = [
    ['an async verifier', { verifyToken: async (token) => TOKENS[token] ?? null }, {}],
    ['an async denylist', { denyList }, {}],
    ['an async authorize', {}, { authorize: async () => true }],
  ]
  for (const [name, settings, routeSettings] of cases) {
    const p = await pipeline(settings)
    const result = p.authenticate(attempt(fakeRequest({ headers: { Authorization: 'Bearer good' } }).request, route(routeSettings), 'handshake'))
    t.ok(result instanceof Promise, `${name}: a promise`)
    t.match(await result, { subject: 'alice', tokenId: 'good-1' }, `${name}: the identity`)
  }
})

t.test('every refusal, with its outcome from the table', async (t) => {
  const p = await pipeline()
  const cases: Array<[string, Parameters<typeof fakeRequest>[0], string, string]> = [
    ['nothing', {}, 'missing', 'no credentials'],
    ['another scheme', { headers: { Authorization: 'Digest username="a", nonce="b"' } }, 'missing', 'no credentials'],
    ['an empty ?token=', { url: '/ws?token=' }, 'missing', 'no credentials'],
    ['a ?token after #', { url: '/ws#?token=good' }, 'missing', 'no credentials'],
    ['Bearer alone', { headers: { Authorization: 'Bearer' } }, 'malformed', 'missing credentials'],
    ['two Authorization lines', { rawHeaders: ['Authorization', 'Bearer good', 'Authorization', 'Bearer good'], headers: { Authorization: 'Bearer good' } },
      'malformed', 'more than one Authorization header'],
    ['two ?token=', { url: '/ws?token=good&token=good' }, 'malformed', 'more than one token parameter'],
    ['one over the cap', { headers: { Authorization: `Bearer ${'a'.repeat(101)}` } }, 'malformed', 'credential too long'],
    ['one over the cap, in the query', { url: `/ws?token=${'a'.repeat(101)}` }, 'malformed', 'credential too long'],
    ['a Basic password over the cap', { headers: { Authorization: `Basic ${Buffer.from(`carol:${'p'.repeat(95)}`).toString('base64')}` } },
      'malformed', 'credential too long'],
    ['an unknown token', { headers: { Authorization: 'Bearer unknown' } }, 'invalid', 'invalid token'],
    ['an expired token', { headers: { Authorization: 'Bearer expired' } }, 'invalid', 'token expired'],
    ['a revoked token', { headers: { Authorization: 'Bearer revoked' } }, 'invalid', 'token revoked'],
    ['a wrong password', { headers: { Authorization: `Basic ${Buffer.from('carol:nope').toString('base64')}` } },
      'invalid', 'invalid username or password'],
    ['an Origin off the allowlist', { headers: { Authorization: 'Bearer good', Origin: 'https://app.example.evil' } }, 'forbidden', 'origin not allowed'],
  ]
  for (const [name, request, outcome, message] of cases) {
    t.strictSame(await handshake(p, fakeRequest(request)), { outcome, message }, name)
  }
  const denied = await handshake(p, fakeRequest({ headers: { Authorization: 'Bearer good' } }), route({ authorize: () => false }))
  t.strictSame(denied, { outcome: 'forbidden', message: 'not allowed' }, 'authorize said no')
  const at = await handshake(p, fakeRequest({ headers: { Authorization: `Bearer ${'a'.repeat(100)}` } }))
  t.strictSame(at, { outcome: 'invalid', message: 'invalid token' }, 'exactly at the cap: verified')
})

t.test('the steps run in order: a refused Origin reads nothing; a malformed credential is never verified', async (t) => {
  const extracted: string[] = []
  const verified: string[] = []
  const spy: Extractor = {
    transport: 'query',
    precedence: 400,
    extract (request) {
      extracted.push(request.url)
      return request.url.includes('bad') ? (() => { throw new WsAuthError('malformed', 'bad') })() : { kind: 'token', transport: 'query', token: 'good' }
    },
  }
  const p = await pipeline({ verifyToken: (token) => { verified.push(token); return TOKENS[token] ?? null } }, [spy])
  t.match(await handshake(p, fakeRequest({ url: '/ws', headers: { Origin: 'null' } })), { outcome: 'forbidden' })
  t.strictSame(extracted, [], 'no extractor ran for a refused Origin')
  t.match(await handshake(p, fakeRequest({ url: '/ws?bad' })), { outcome: 'malformed' })
  t.strictSame(verified, [], 'nothing was verified')
  t.match(await handshake(p, fakeRequest({ url: '/ws', headers: { Origin: ORIGIN } })), { subject: 'alice' })
  t.strictSame(verified, ['good'])
})

t.test('a route that takes the credential by first message: no credential at the handshake is null, not a refusal', async (t) => {
  const p = await pipeline()
  t.equal(await handshake(p, fakeRequest(), route({ firstMessage: true })), null)
  t.match(await handshake(p, fakeRequest({ headers: { Origin: 'https://evil.example' } }), route({ firstMessage: true })),
    { outcome: 'forbidden', message: 'origin not allowed' }, 'the Origin is still checked at the handshake')
})

t.test('judge: a credential that came on the socket goes through the same steps after extraction', async (t) => {
  const p = await pipeline()
  const judged = async (token: string, subject: string | null = null): Promise<unknown> => {
    const current = attempt(fakeRequest().request, route({ authorize: (identity) => identity.subject !== 'mallory' }), 'refresh')
    current.credential = { kind: 'token', transport: 'first-message', token }
    current.transport = 'first-message'
    current.subject = subject
    try {
      return await p.judge(current)
    } catch (thrown) {
      return p.refuse(current, thrown).outcome
    }
  }
  t.match(await judged('good'), { subject: 'alice', transport: 'first-message' })
  t.equal(await judged('a'.repeat(101)), 'malformed', 'capped like a handshake\'s')
  t.equal(await judged('revoked'), 'invalid', 'the denylist applies')
  t.equal(await judged('bob', 'alice'), 'forbidden', 'a refresh keeps the subject')
  t.match(await judged('good', 'alice'), { subject: 'alice' })
})

t.test('an extractor\'s own verify: for credentials that are not the guard\'s tokens; the denylist and authorize still apply', async (t) => {
  const seen: Credential[] = []
  const ticket: Extractor = {
    transport: 'query',
    precedence: 400,
    extract: (request) => {
      const value = new URL(request.url, 'http://x').searchParams.get('ticket')
      return value === null ? null : { kind: 'token', transport: 'query', token: value }
    },
    async verify (credential, request) {
      seen.push(credential)
      if (credential.kind !== 'token') return null
      // Bound to the Origin it was issued for.
      if (request.headers.origin !== ORIGIN) return null
      return { good: { subject: 'dave', tokenId: 't-1' }, revoked: { subject: 'dave', tokenId: 'revoked-1' } }[credential.token] ?? null
    },
  }
  const p = await pipeline({ verifyToken: () => { throw new Error('the token verifier must not see a ticket') } }, [ticket])
  t.match(await handshake(p, fakeRequest({ url: '/ws?ticket=good', headers: { Origin: ORIGIN } })), { subject: 'dave', tokenId: 't-1' })
  t.strictSame(seen, [{ kind: 'token', transport: 'query', token: 'good' }], 'verify got the extracted credential')
  t.match(await handshake(p, fakeRequest({ url: '/ws?ticket=good' })), { outcome: 'invalid' }, 'its own rules (no Origin)')
  t.match(await handshake(p, fakeRequest({ url: '/ws?ticket=revoked', headers: { Origin: ORIGIN } })), { outcome: 'invalid', message: 'token revoked' })
  t.match(await handshake(p, fakeRequest({ url: '/ws?ticket=good', headers: { Origin: ORIGIN } }), route({ authorize: () => false })),
    { outcome: 'forbidden' })
})

t.test('a password login without an expiry gets the lifetime; the verifier\'s own expiry wins', async (t) => {
  const p = await pipeline({
    verifyPassword: async (username) => (username === 'erin' ? { subject: 'erin', expiresAt: NOW + 5_000 } : { subject: username }),
  })
  const basicOf = (user: string): FakeRequest => fakeRequest({ headers: { Authorization: `Basic ${Buffer.from(`${user}:pw`).toString('base64')}` } })
  t.match(await handshake(p, basicOf('carol')), { subject: 'carol', transport: 'basic', expiresAt: NOW + 60_000, tokenId: null })
  t.match(await handshake(p, basicOf('erin')), { subject: 'erin', expiresAt: NOW + 5_000 })
  t.match(await handshake(p, fakeRequest({ headers: { Authorization: `Basic ${Buffer.from('token:forever').toString('base64')}` } })),
    { transport: 'basic', expiresAt: null }, 'a token sent through Basic keeps its own (lack of) expiry')
})

t.test('refuse: the one refusal path, with one log line and one event, never the credential', async (t) => {
  const events = recordFailures(t)
  const p = await pipeline()
  const fake = fakeRequest({ headers: { Authorization: 'Bearer unknown' } })
  t.match(await handshake(p, fake), { outcome: 'invalid' })
  t.strictSame(fake.logged, [{
    level: 'info',
    fields: { wsAuth: { outcome: 'invalid', code: 'ERR_WSAUTH_INVALID', transport: 'bearer', phase: 'handshake' } },
    message: 'websocket authentication rejected',
  }])
  t.strictSame(events, [{ outcome: 'invalid', transport: 'bearer', route: '/ws', phase: 'handshake' }])

  const bug = new Error('secret detail')
  const failing = await pipeline({ verifyToken: () => { throw bug } })
  const crashed = fakeRequest({ headers: { Authorization: 'Bearer good' } })
  t.match(await handshake(failing, crashed), { outcome: 'internal', message: 'internal error' }, 'a plain Error is a bug')
  t.strictSame(crashed.logged, [{ level: 'error', fields: { err: bug }, message: 'websocket authentication failed: internal' }])

  const down = await pipeline({ denyList: { add: async () => {}, has: () => { throw new Error('store down') } } })
  const unavailable = fakeRequest({ headers: { Authorization: 'Bearer good' } })
  t.match(await handshake(down, unavailable), { outcome: 'unavailable' }, 'a denylist that throws')
  t.equal(unavailable.logged[0]?.level, 'error')
  const rejecting = await pipeline({ denyList: { add: async () => {}, has: async () => { throw new Error('store down') } } })
  t.match(await handshake(rejecting, fakeRequest({ headers: { Authorization: 'Bearer good' } })), { outcome: 'unavailable' },
    'a denylist that rejects')
  t.notOk(JSON.stringify(events).includes('unknown'), 'no credential in an event')
})

t.test('httpAnswer: the table\'s answer with the pipeline\'s challenge', async (t) => {
  const p = await pipeline({ challenge: { realm: 'chat', basic: true, invalidTokenStatus: 403 } })
  t.strictSame(p.httpAnswer(new WsAuthError('missing', 'no credentials')), {
    status: 401,
    headers: { 'www-authenticate': ['Bearer realm="chat"', 'Basic realm="chat", charset="UTF-8"'] },
    body: { error: 'unauthorized', error_description: 'no credentials' },
  })
  t.equal(p.httpAnswer(new WsAuthError('invalid', 'invalid token')).status, 403, 'the JEP 121 preset')
})

t.test('register: one extractor per transport, in precedence order; an ambient one needs an allowlist', async (t) => {
  const p = await pipeline({}, [])
  const named = (transport: Extractor['transport'], precedence: number): Extractor => ({ transport, precedence, extract: () => null })
  p.register(named('query', 400))
  p.register(named('bearer', 100))
  t.strictSame(p.extractors.map((extractor) => extractor.transport), ['bearer', 'query'])
  t.throws(() => p.register(named('query', 1)), { message: '@wsauth/ws-bearer: a query extractor is already registered' })
  const open = await pipeline({ origins: null }, [])
  t.throws(() => open.register({ ...named('basic', 150), ambient: true }),
    { message: '@wsauth/ws-bearer: the basic transport is ambient; set `origins` to an allowlist' })
})

t.test('requireOrigin: that transport\'s credential needs an Origin header', async (t) => {
  const p = await pipeline({}, [{ ...queryExtractor('token'), requireOrigin: true }])
  t.match(await handshake(p, fakeRequest({ url: '/ws?token=good' })), { outcome: 'forbidden', message: 'origin required' })
  t.match(await handshake(p, fakeRequest({ url: '/ws?token=good', headers: { Origin: ORIGIN } })), { subject: 'alice' })
})

t.test('an Attempt carries the context from step to step', async (t) => {
  const p = await pipeline()
  const current: Attempt = attempt(fakeRequest({ url: '/ws?token=good' }).request, route(), 'handshake')
  p.origin(current)
  p.extract(current)
  t.strictSame(current.credential, { kind: 'token', transport: 'query', token: 'good' })
  t.equal(current.transport, 'query')
  t.equal(current.source?.transport, 'query')
  p.capLength(current)
  await p.verify(current)
  t.match(current.identity, { subject: 'alice', transport: 'query' })
  await p.denyList(current)
  await p.authorize(current)
})
