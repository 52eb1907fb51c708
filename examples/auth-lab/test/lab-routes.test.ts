// One method app's lab routes, in process: what the guard saw (`/lab/seen`), the log check (`/lab/log-check`), their
// refusals of bad input, and CORS for the page's origins only.
import type { AddressInfo } from 'node:net'
import { PassThrough } from 'node:stream'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { opened, refused } from '../../../test/helpers/ws.ts'
import { configFromEnv } from '../src/config.ts'
import { LogRecord } from '../src/log-record.ts'
import { buildMethodApp } from '../src/method-app.ts'
import { METHODS, type Method } from '../src/methods.ts'

const PAGE = 'http://localhost:8000'
const config = configFromEnv({ LOG_LEVEL: 'silent' }, () => 'lab-routes-test-secret-long-enough-for-hs256')
const method = (id: string): Method => METHODS.find((candidate) => candidate.id === id)!

async function startApp (t: Test, id: string): Promise<{ app: FastifyInstance, ws: string }> {
  const built = await buildMethodApp(method(id), config, [PAGE])
  t.teardown(() => built.close())
  await built.listen({ host: '127.0.0.1', port: 0 })
  return { app: built, ws: `ws://127.0.0.1:${(built.server.address() as AddressInfo).port}` }
}

async function logCheck (app: FastifyInstance, credential: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/lab/log-check', payload: { credential } })
  return response.json<{ log: string }>().log
}

async function stillServes (t: Test, app: FastifyInstance): Promise<void> {
  t.equal((await app.inject('/lab/seen')).statusCode, 200, 'the app still serves')
}

t.test('the log check finds what was logged, and only that', async (t) => {
  const { app, ws } = await startApp(t, 'query')
  t.equal((await app.inject('/nothing/here/plain-credential-0123')).statusCode, 404)
  t.equal(await logCheck(app, 'plain-credential-0123'), 'found', 'a credential in a logged path is found')
  t.equal(await logCheck(app, 'never-sent-0123'), 'not found')

  const token = app.jwt.sign({ sub: 'johndoe' }, { expiresIn: 600 })
  const { socket } = await opened(`${ws}/query?token=${token}`)
  socket.close()
  t.equal(await logCheck(app, token), 'not found', 'the guard\'s app redacts the query: the token is not in its log')
})

t.test('what the guard saw, for this app\'s routes only', async (t) => {
  const query = await startApp(t, 'query')
  const other = await startApp(t, 'subprotocol')
  const token = query.app.jwt.sign({ sub: 'johndoe' }, { expiresIn: 600 })
  const before = (await query.app.inject('/lab/seen')).json<{ last: number }>().last
  const { socket } = await opened(`${query.ws}/query?token=${token}`)
  socket.close()
  t.equal((await refused(`${query.ws}/query?token=not-a-jwt`)).status, 401)
  const seen = (await query.app.inject(`/lab/seen?after=${before}`)).json<{ attempts: unknown[] }>().attempts
  t.strictSame(seen, [
    { seq: before + 1, route: '/query', phase: 'handshake', result: 'authenticated', transport: 'query', subject: 'johndoe' },
    { seq: before + 2, route: '/query', phase: 'handshake', result: 'invalid', transport: 'query', subject: null },
  ])
  t.strictSame((await other.app.inject('/lab/seen?after=0')).json(), { last: 0, attempts: [] }, 'another app saw none of it')
})

t.test('bad input is a 400 (an unknown media type 415), and the app keeps serving', async (t) => {
  const { app } = await startApp(t, 'query')
  for (const url of ['/lab/seen?after=-1', '/lab/seen?after=abc', '/lab/seen?after=1.5']) {
    t.equal((await app.inject(url)).statusCode, 400, url)
  }
  const bodies: Array<[string, string, string, number]> = [
    ['no credential', 'application/json', '{}', 400],
    ['an empty credential', 'application/json', '{"credential":""}', 400],
    ['a credential past the cap', 'application/json', JSON.stringify({ credential: 'x'.repeat(4097) }), 400],
    ['not JSON', 'application/json', '{credential', 400],
    ['a list', 'application/json', '{"credential":["a","b"]}', 400],
    ['text, not an object', 'text/plain', 'credential', 400],
    ['an unknown media type', 'application/x-unknown', 'credential', 415],
  ]
  for (const [name, type, payload, status] of bodies) {
    const response = await app.inject({ method: 'POST', url: '/lab/log-check', headers: { 'content-type': type }, payload })
    t.equal(response.statusCode, status, `${name}: ${status}`)
  }
  await stillServes(t, app)
})

t.test('CORS answers the page\'s origins, and no other', async (t) => {
  const { app } = await startApp(t, 'query')
  const fromPage = await app.inject({ url: '/lab/seen', headers: { origin: PAGE } })
  t.equal(fromPage.headers['access-control-allow-origin'], PAGE)
  const fromElsewhere = await app.inject({ url: '/lab/seen', headers: { origin: 'http://evil.test' } })
  t.equal(fromElsewhere.headers['access-control-allow-origin'], undefined)
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/lab/log-check',
    headers: { origin: PAGE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], PAGE)
  const elsewhere = await app.inject({ url: '/query', headers: { origin: PAGE } })
  t.equal(elsewhere.headers['access-control-allow-origin'], undefined, 'the app\'s other routes get no CORS from the lab')
})

t.test('the log record prints from LOG_LEVEL up, and keeps from debug up', async (t) => {
  const out = new PassThrough()
  let printed = ''
  out.on('data', (chunk: Buffer) => { printed += String(chunk) })
  const record = new LogRecord('warn', out)
  record.write(`${JSON.stringify({ level: 20, msg: 'debug-line' })}\n${JSON.stringify({ level: 40, msg: 'warn-line' })}\n`)
  t.ok(record.contains('debug-line'), 'a debug line is kept')
  t.notOk(printed.includes('debug-line'), 'and not printed at warn')
  t.ok(printed.includes('warn-line'), 'a warn line is printed')
  record.write(`${JSON.stringify({ level: 30, msg: 'GET /x?c=a%20b' })}\n`)
  t.ok(record.contains('a b'), 'found percent-encoded: a%20b')
  t.throws(() => new LogRecord('loud'), /LOG_LEVEL must be one of/)
})
