// Upgrade requests to routes that are not websocket routes (issue 8, defect 2): before the fix they got a 101, then
// 1011, and an error-level line that anyone could cause. Now they get no 101 and are logged like any request; the
// fail-closed 1011 and its error line stay for a real websocket route the guard did not cover (handshake.test.ts).
import t from 'tap'
import { rawHandshake, refused } from '../../../test/helpers/ws.ts'
import { bearer, build, logCollector, stillServes } from '../../../test/helpers/index.ts'

interface LogLine { level: number, msg: string, req?: { url: string }, res?: { statusCode: number } }

const ERROR = 50

t.test('an upgrade to a plain HTTP route: 404 before any 101, logged like any request', async (t) => {
  const { stream, lines } = logCollector()
  const fx = await build(t, {
    logger: { level: 'info', stream },
    guard: { query: true },
    routes: (app) => {
      app.get('/', async () => 'home')
      app.post('/form', async () => 'posted')
    },
  })
  const token = fx.sign({ sub: 'alice' })
  for (const path of ['/', `/?token=${token}`]) {
    const refusal = await refused(fx.url(path), bearer(token))
    t.equal(refusal.status, 404, `${path.slice(0, 8)}: 404, with or without a credential`)
    t.equal(refusal.body, '', 'an empty body')
    const raw = await rawHandshake(fx.port, path, [])
    t.equal(raw.status, 404, 'raw: no 101')
  }
  t.equal(fx.handled, 0, 'no websocket handler ran')
  const parsed = lines.map((line) => JSON.parse(line) as LogLine)
  t.strictSame(parsed.filter((line) => line.level >= ERROR), [], 'no error line')
  const completed = parsed.filter((line) => line.msg === 'request completed' && line.res?.statusCode === 404)
  t.equal(completed.length, 4, 'each logged at info as a completed request')
  t.notOk(lines.some((line) => line.includes(token)), 'the token is not in the log')

  const page = await fetch(`http://127.0.0.1:${fx.port}/`)
  t.equal(await page.text(), 'home', 'the route still answers plain requests')
  await stillServes(t, fx)
})

t.test('the query ends at the first #: a ? after it starts no query (defect 6)', async (t) => {
  const fx = await build(t, { guard: { query: true } })
  const token = fx.sign({ sub: 'alice' })
  // A browser never sends a fragment, and ws refuses to: only a raw client can.
  for (const path of [`/ws#?token=${token}`, `/ws#x?token=${token}`, `/ws#&token=${token}`]) {
    const raw = await rawHandshake(fx.port, path, [])
    t.equal(raw.status, 401, `${path.slice(0, 12)}: no credential`)
    t.match(raw.head, /\r\nwww-authenticate: Bearer realm="wsauth"\r\n/i, 'the bare challenge')
  }
  t.equal((await rawHandshake(fx.port, `/ws?token=${token}#?token=junk`, [])).status, 101, 'a query before the # still counts')
  t.equal((await rawHandshake(fx.port, `/ws?token=junk#?token=${token}`, [])).status, 401, 'and only it')
  t.equal(fx.handled, 1)
  await stillServes(t, fx)
})

t.test('an upgrade by HEAD to a websocket route: 404 before any credential is read; a plain HEAD is still guarded', async (t) => {
  const authenticated: string[] = []
  const fx = await build(t, {
    guard: { authorize: (identity) => { authenticated.push(identity.subject); return true } },
    routes: (app) => { app.route({ method: ['GET', 'HEAD'], url: '/both', websocket: true, handler: (socket) => socket.close() }) },
  })
  const token = fx.sign({ sub: 'alice' })
  for (const path of ['/ws', '/both']) {
    for (const headers of [[], [`Authorization: Bearer ${token}`]]) {
      const raw = await rawHandshake(fx.port, path, headers, 'HEAD')
      t.equal(raw.status, 404, `${path}: HEAD upgrade ${headers.length === 0 ? 'without' : 'with'} a credential: 404`)
    }
  }
  t.strictSame(authenticated, [], 'no credential was verified')
  t.equal(fx.handled, 0, 'no websocket handler ran')
  t.equal((await fetch(fx.url('/ws').replace('ws:', 'http:'), { method: 'HEAD' })).status, 401, 'a plain HEAD without a credential: 401')
  await stillServes(t, fx)
})
