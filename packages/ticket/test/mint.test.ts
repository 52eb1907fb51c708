// POST /ws-ticket: Bearer in through the guard's verifier and denylist, a ticket out; Origin and CORS; the per-subject
// limit; startup checks. Every refusal is followed by a good mint and a good handshake on the same server.
import t, { type Test } from 'tap'
import Fastify from 'fastify'
import fastifyWebsocket from '@fastify/websocket'
import wsBearer from '@wsauth/ws-bearer'
import ticket, { DEFAULT_LIFETIME } from '@wsauth/ticket'
import { CHALLENGE, INVALID_REQUEST_CHALLENGE, INVALID_TOKEN_CHALLENGE, OTHER_SECRET, craftJwt, nowSeconds, stillServes } from '../../../test/helpers/index.ts'
import { ALLOWED_ORIGIN, buildTicketApp, mint, send, ticketStillServes, type HttpAnswer, type TicketFixture } from './fixture.ts'

function post (fx: TicketFixture, headers: Record<string, string>): Promise<HttpAnswer> {
  return send(fx, 'POST', '/ws-ticket', headers)
}

function assertNoCors (t: Test, answer: HttpAnswer, name: string): void {
  const cors = Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))
  t.strictSame(cors, [], `${name}: no CORS headers`)
}

t.test('a ticket: 200, no-store, opaque, 30 s', async (t) => {
  const fx = await buildTicketApp(t)
  const answer = await post(fx, { authorization: `Bearer ${fx.token('alice')}` })
  t.equal(answer.status, 200)
  t.equal(answer.headers['cache-control'], 'no-store')
  t.match(answer.headers['content-type'], /^application\/json/)
  const body = JSON.parse(answer.body) as { ticket: string, expires_in: number }
  t.strictSame(Object.keys(body).sort(), ['expires_in', 'ticket'])
  t.equal(body.expires_in, DEFAULT_LIFETIME)
  t.match(body.ticket, /^[A-Za-z0-9_-]{43}$/, '256 bits, base64url')
  t.notSame(await mint(fx, fx.token('alice')), body.ticket, 'a new one each time')
  assertNoCors(t, answer, 'no Origin')
})

t.test('a ticket lives no longer than its token', async (t) => {
  const fx = await buildTicketApp(t, { ticket: { lifetime: 300 } })
  const short = fx.sign({ sub: 'alice' }, { expiresIn: 120 })
  const body = JSON.parse((await post(fx, { authorization: `Bearer ${short}` })).body) as { expires_in: number }
  t.ok(body.expires_in <= 120 && body.expires_in > 100, `capped at the token's exp (${body.expires_in})`)
  t.equal((JSON.parse((await post(fx, { authorization: `Bearer ${fx.token('alice')}` })).body) as { expires_in: number }).expires_in, 300)
})

t.test('refused bearers: 401 (400 for a malformed header), through the outcome table', async (t) => {
  const fx = await buildTicketApp(t)
  const cases: Array<[string, Record<string, string>, number, string]> = [
    ['no Authorization', {}, 401, CHALLENGE],
    ['another scheme', { authorization: 'Basic dG9rZW46eA==' }, 401, CHALLENGE],
    ['a forged token', { authorization: `Bearer ${craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', exp: nowSeconds() + 600 }, OTHER_SECRET)}` }, 401, INVALID_TOKEN_CHALLENGE],
    ['not a JWT', { authorization: 'Bearer nope' }, 401, INVALID_TOKEN_CHALLENGE],
    ['an empty Bearer', { authorization: 'Bearer ' }, 400, INVALID_REQUEST_CHALLENGE],
  ]
  for (const [name, headers, status, challenge] of cases) {
    const answer = await post(fx, headers)
    t.equal(answer.status, status, `${name}: ${status}`)
    t.equal(answer.headers['www-authenticate'], challenge, `${name}: challenge`)
    t.equal(answer.headers['cache-control'], 'no-store', `${name}: no-store`)
    t.notMatch(answer.body, /ticket"/, `${name}: no ticket`)
  }
  const revoked = fx.token('alice')
  const { jti, exp } = JSON.parse(Buffer.from(revoked.split('.')[1]!, 'base64url').toString()) as { jti: string, exp: number }
  await fx.app.wsAuth.revokeToken(jti, exp * 1000)
  const answer = await post(fx, { authorization: `Bearer ${revoked}` })
  t.equal(answer.status, 401, 'a revoked token (the guard\'s denylist)')
  t.strictSame(JSON.parse(answer.body), { error: 'invalid_token', error_description: 'token revoked' })
  const expiring = fx.token('bob')
  fx.advance(601_000)
  t.equal((await post(fx, { authorization: `Bearer ${expiring}` })).status, 401, 'an expired token (on the guard\'s clock)')
  fx.advance(-601_000)
  await ticketStillServes(t, fx)
  await stillServes(t, fx)
})

t.test('Origin and CORS: the guard\'s allowlist, or the server\'s own origin', async (t) => {
  const fx = await buildTicketApp(t)
  const token = fx.token('alice')
  for (const origin of ['http://evil.test', 'null', 'http://localhost:8000.evil.test']) {
    const answer = await post(fx, { authorization: `Bearer ${token}`, origin })
    t.equal(answer.status, 403, `${origin}: 403`)
    assertNoCors(t, answer, origin)
    const preflight = await send(fx, 'OPTIONS', '/ws-ticket', {
      origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization',
    })
    t.equal(preflight.status, 403, `${origin}: preflight 403`)
    assertNoCors(t, preflight, `${origin} preflight`)
  }

  const allowed = await post(fx, { authorization: `Bearer ${token}`, origin: ALLOWED_ORIGIN })
  t.equal(allowed.status, 200)
  t.equal(allowed.headers['access-control-allow-origin'], ALLOWED_ORIGIN)
  t.equal(allowed.headers.vary, 'Origin')
  const preflight = await send(fx, 'OPTIONS', '/ws-ticket', {
    origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization',
  })
  t.equal(preflight.status, 204)
  t.equal(preflight.headers['access-control-allow-origin'], ALLOWED_ORIGIN)
  t.equal(preflight.headers['access-control-allow-methods'], 'POST')
  t.equal(preflight.headers['access-control-allow-headers'], 'authorization')
  const refusedButReadable = await post(fx, { authorization: 'Bearer nope', origin: ALLOWED_ORIGIN })
  t.equal(refusedButReadable.status, 401)
  t.equal(refusedButReadable.headers['access-control-allow-origin'], ALLOWED_ORIGIN, 'a page can read its 401')

  const sameOrigin = await post(fx, { authorization: `Bearer ${token}`, origin: `http://127.0.0.1:${fx.port}` })
  t.equal(sameOrigin.status, 200, 'a page of the server\'s own origin')
  assertNoCors(t, sameOrigin, 'same origin')
  await ticketStillServes(t, fx)
})

t.test('no request body: an empty one of any type mints; a body is 400 through the outcome table, with CORS', async (t) => {
  const fx = await buildTicketApp(t)
  const endpoint = `http://127.0.0.1:${fx.port}/ws-ticket`
  const bearerOf = (sub: string): Record<string, string> => ({ authorization: `Bearer ${fx.token(sub)}` })
  // `curl -d ''` sends a form type; a page's fetch may say JSON out of habit, with no body.
  for (const type of ['application/x-www-form-urlencoded', 'application/json', 'text/plain']) {
    const answer = await fetch(endpoint, { method: 'POST', headers: { ...bearerOf('alice'), 'content-type': type, origin: ALLOWED_ORIGIN }, body: '' })
    t.equal(answer.status, 200, `an empty ${type} body: a ticket`)
    t.equal(answer.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN, 'with CORS')
  }
  const form = new URLSearchParams({ access_token: fx.token('alice') })
  for (const origin of [ALLOWED_ORIGIN, undefined]) {
    const answer = await fetch(endpoint, { method: 'POST', headers: { ...bearerOf('alice'), ...(origin === undefined ? {} : { origin }) }, body: form })
    t.equal(answer.status, 400, `a body (${origin ?? 'no Origin'}): 400`)
    t.equal(answer.headers.get('www-authenticate'), INVALID_REQUEST_CHALLENGE)
    t.equal(answer.headers.get('cache-control'), 'no-store')
    t.equal(answer.headers.get('access-control-allow-origin'), origin ?? null, origin === undefined ? 'no CORS' : 'CORS, so the page can read it')
    t.strictSame(await answer.json(), { error: 'invalid_request', error_description: 'no request body expected' })
  }
  const foreign = await fetch(endpoint, { method: 'POST', headers: { ...bearerOf('alice'), origin: 'http://evil.test' }, body: 'x' })
  t.equal(foreign.status, 403, 'a body from a foreign Origin: 403')
  t.equal(foreign.headers.get('access-control-allow-origin'), null, 'no CORS')
  await ticketStillServes(t, fx)
})

t.test('the per-subject limit: 429 with Retry-After, other subjects unaffected, and the window passes', async (t) => {
  const fx = await buildTicketApp(t, { ticket: { rateLimit: { max: 3, windowSeconds: 60 } } })
  const token = fx.token('alice')
  for (let i = 0; i < 3; i++) t.equal((await post(fx, { authorization: `Bearer ${token}` })).status, 200, `ticket ${i + 1}`)
  const over = await post(fx, { authorization: `Bearer ${token}` })
  t.equal(over.status, 429)
  t.equal(over.headers['retry-after'], '60')
  t.strictSame(JSON.parse(over.body), { error: 'too_many_requests', error_description: 'too many tickets' })
  t.equal((await post(fx, { authorization: `Bearer ${fx.token('alice')}` })).status, 429, 'per subject, not per token')
  t.equal((await post(fx, { authorization: 'Bearer nope' })).status, 401, 'a bad token is not counted, nor limited')
  t.equal((await post(fx, { authorization: `Bearer ${fx.token('bob')}` })).status, 200, 'another subject')
  await ticketStillServes(t, fx)
  fx.advance(60_000)
  t.equal((await post(fx, { authorization: `Bearer ${token}` })).status, 200, 'after the window')
})

t.test('a store that fails: 503, never a pass', async (t) => {
  const broken = { put: async () => { throw new Error('store down') }, take: async () => { throw new Error('store down') } }
  const fx = await buildTicketApp(t, { ticket: { store: broken } })
  const answer = await post(fx, { authorization: `Bearer ${fx.token('alice')}` })
  t.equal(answer.status, 503)
  t.strictSame(JSON.parse(answer.body), { error: 'temporarily_unavailable', error_description: 'try again later' })
  t.equal((await send(fx, 'GET', `/ws?ticket=${Buffer.alloc(32).toString('base64url')}`, {
    connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  })).status, 503, 'redeeming: 503')
  await stillServes(t, fx)
})

t.test('startup checks', async (t) => {
  async function register (options: unknown): Promise<void> {
    const app = Fastify({ logger: false })
    t.teardown(() => app.close())
    await app.register(fastifyWebsocket)
    await app.register(wsBearer, { verify: () => null })
    await app.register(ticket, options as never)
    await app.ready()
  }
  const cases: Array<[unknown, RegExp]> = [
    [{ lifetime: 301 }, /option "lifetime" must be an integer from 1 to 300; got 301/],
    [{ lifetime: 0 }, /option "lifetime"/],
    [{ path: 'ws-ticket' }, /option "path"/],
    [{ store: {} }, /option "store" must be a SingleUseStore/],
    [{ rateLimit: 5 }, /option "rateLimit"/],
    [{ rateLimit: { max: 0 } }, /option "rateLimit.max"/],
    [{ counter: { attempt: async () => 0 }, rateLimit: { max: 1 } }, /option "rateLimit" must be left out/],
    [{ ticketLifetime: 30 }, /option "ticketLifetime" is not an option/],
  ]
  for (const [options, message] of cases) {
    await t.rejects(register(options), { name: 'WsAuthOptionsError', code: 'ERR_WSAUTH_OPTIONS', message }, JSON.stringify(options))
  }
  await t.rejects(async () => {
    const app = Fastify({ logger: false })
    t.teardown(() => app.close())
    await app.register(fastifyWebsocket)
    await app.register(ticket)
  }, /@wsauth\/ws-bearer/, 'needs the guard')
})
