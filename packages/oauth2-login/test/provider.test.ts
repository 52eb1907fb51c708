import { once } from 'node:events'
import { createServer } from 'node:http'
import t from 'tap'
import { startIdp } from '../../../test/helpers/oidc.ts'
import { START, answer, callback, exchange, startApp, stillServes, toCallback } from './fixture.ts'

t.test('a provider down at startup: the app starts, logs one line, answers sign-ins 503 and serves password logins', async (t) => {
  const idp = await startIdp(t)
  await idp.stop()
  const app = await startApp(t, idp.issuer)
  const line = await app.logged(/sign-in provider unavailable/)
  t.match(JSON.parse(line), { level: 40, msg: `sign-in provider unavailable: ${idp.issuer}/.well-known/openid-configuration: ECONNREFUSED` })

  const start = await answer(await fetch(`${app.base}${START}`, { headers: { accept: 'application/json' }, redirect: 'manual' }))
  t.equal(start.status, 503)
  t.equal(start.json.error, 'provider_unavailable')
  t.equal(start.headers.get('retry-after'), '10', 'the cooldown left, in seconds')
  await stillServes(t, app)
  t.equal(app.logs.filter((logLine) => logLine.includes('sign-in provider unavailable')).length, 1, 'no new attempt within the cooldown')

  await idp.start()
  t.equal((await fetch(`${app.base}${START}`, { redirect: 'manual' })).status, 503, 'still within the cooldown: not asked again')
  app.clock.advance(10_000)
  const { jar, url } = await toCallback(app)
  const signedIn = await callback(jar, url)
  t.equal(signedIn.status, 200, 'after the cooldown the provider is asked again, and sign-ins work without a restart')
  t.equal((await exchange(app, signedIn.json.code)).status, 200)
})

t.test('a provider that goes down during a sign-in: the callback is a 503 with one log line', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const { jar, url } = await toCallback(app)
  await idp.stop()
  const answered = await callback(jar, url)
  t.equal(answered.status, 503)
  t.equal(answered.json.error, 'provider_unavailable')
  const line = JSON.parse(await app.logged(/sign-in provider unavailable: token endpoint/))
  t.equal(line.level, 40)
  t.notOk(line.msg.includes(url.searchParams.get('code')!), 'without the code')
  await stillServes(t, app)
})

t.test('a provider whose keys cannot be fetched: the callback is a 503', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const { jar, url } = await toCallback(app)
  idp.keysDown = true
  const answered = await callback(jar, url)
  t.equal(answered.status, 503)
  t.equal(answered.json.error, 'provider_unavailable')
  await app.logged(/sign-in provider unavailable: .*\/jwks: HTTP 503/)
  await stillServes(t, app)
})

t.test('a configuration that is not the issuer\'s, or not JSON, is a 503', async (t) => {
  const documents = [
    { body: JSON.stringify({ issuer: 'http://127.0.0.1:1', authorization_endpoint: 'x' }), log: /not the configuration of/ },
    { body: 'not json', log: /: not JSON/ },
    { body: null, log: /: HTTP 404/ },
  ]
  for (const document of documents) {
    const server = createServer((_request, response) => {
      response.writeHead(document.body === null ? 404 : 200, { 'content-type': 'application/json' }).end(document.body ?? '')
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    t.teardown(() => server.close())
    const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    const app = await startApp(t, issuer)
    await app.logged(document.log)
    const start = await answer(await fetch(`${app.base}${START}`, { headers: { accept: 'application/json' }, redirect: 'manual' }))
    t.equal(start.status, 503)
    t.equal(start.json.error, 'provider_unavailable')
  }
})

t.test('a configuration without an endpoint is a 503', async (t) => {
  const idp = await startIdp(t)
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ issuer: `http://127.0.0.1:${(server.address() as { port: number }).port}`, authorization_endpoint: `${idp.issuer}/auth` }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const app = await startApp(t, `http://127.0.0.1:${(server.address() as { port: number }).port}`)
  t.match(await app.logged(/sign-in provider unavailable/), /no token_endpoint/)
})

t.test('an expired ID token (injected clock) is a 401', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer, { loginTtlSeconds: 86_400 })
  const { jar, url } = await toCallback(app)
  // oidc-provider's ID tokens live an hour; the test's clock started before this one was issued, and no test lasts an hour.
  app.clock.advance(2 * 3_600_000)
  const answered = await callback(jar, url)
  t.equal(answered.status, 401)
  t.equal(answered.json.error, 'invalid_id_token')
})
