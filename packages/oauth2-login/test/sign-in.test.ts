import t from 'tap'
import { CODE_STORAGE_KEY } from '@wsauth/oauth2-login'
import { startIdp } from '../../../test/helpers/oidc.ts'
import { nextMessage, opened } from '../../../test/helpers/ws.ts'
import { CALLBACK, START, answer, callback, exchange, startApp, stillServes, toCallback } from './fixture.ts'

t.test('a whole sign-in over HTTP ends in password-bearer\'s tokens, which open a socket', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)

  const start = await fetch(`${app.base}${START}`, { redirect: 'manual' })
  t.equal(start.status, 302, 'the start route sends the browser to the provider')
  const authorization = new URL(start.headers.get('location')!)
  t.equal(authorization.origin, idp.issuer)
  t.equal(authorization.searchParams.get('code_challenge_method'), 'S256', 'with PKCE S256')
  t.match(authorization.searchParams.get('code_challenge'), /^[\w-]{43}$/)
  t.match(authorization.searchParams.get('nonce'), /^[\w-]{22}$/, 'a nonce')
  t.match(authorization.searchParams.get('state'), /^[0-9a-z]+\.[\w-]{22}$/, 'a state')
  t.equal(authorization.searchParams.get('scope'), 'openid profile')
  t.equal(authorization.searchParams.get('redirect_uri'), `${app.base}${CALLBACK}`)
  const cookies = start.headers.getSetCookie()
  t.equal(cookies.length, 3, 'state, verifier and nonce cookies')
  for (const cookie of cookies) t.match(cookie, /; Path=\/login\/oidc\/callback; HttpOnly; SameSite=Lax$/, 'HttpOnly, Lax, scoped to the callback')

  const { jar, url } = await toCallback(app)
  t.equal(url.pathname, CALLBACK)
  const answered = await callback(jar, url)
  t.equal(answered.status, 200)
  t.equal(answered.headers.get('cache-control'), 'no-store')
  t.match(answered.json, { code: /^[\w-]{43}$/, expires_in: 30 })
  t.equal(jar.get(app.base, 'wsauth-oidc-state'), undefined, 'the sign-in cookies are cleared')
  t.equal(jar.get(app.base, 'wsauth-oidc-nonce'), undefined)

  const tokens = await exchange(app, answered.json.code)
  t.equal(tokens.status, 200)
  t.match(tokens.json, { token_type: 'Bearer', scope: 'chat', access_token: /^ey/, refresh_token: String })
  const { socket } = await opened(`${app.base.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${tokens.json.access_token}` } })
  t.equal(await nextMessage(socket), 'Welcome alice!')
  socket.close()

  const again = await exchange(app, answered.json.code)
  t.equal(again.status, 400, 'a code is good once')
  t.same(again.json, { error: 'invalid_grant', error_description: 'invalid code' })

  const logs = app.logs.join('')
  for (const secret of [answered.json.code, tokens.json.access_token, tokens.json.refresh_token, url.searchParams.get('code')!]) {
    t.notOk(logs.includes(secret), 'no code or token in any log line')
  }
  // The guard's request serializer covers every route registered after it: `code` makes the whole query credential-like.
  t.match(logs, /"url":"\/login\/oidc\/callback\?\[redacted\]"/, 'the callback is logged redacted')
})

t.test('a browser gets a page that leaves the code in sessionStorage and goes on to the app', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer, { successPath: '/chat' })
  const { jar, url } = await toCallback(app)
  const page = await callback(jar, url, 'text/html,application/xhtml+xml,application/json;q=0.9')
  t.equal(page.status, 200)
  t.equal(page.headers.get('content-type'), 'text/html; charset=utf-8')
  t.equal(page.headers.get('cache-control'), 'no-store')
  t.equal(page.headers.get('referrer-policy'), 'no-referrer')
  const nonce = /<script nonce="([\w-]+)">/.exec(page.text)?.[1]
  t.ok(nonce, 'the script carries a nonce')
  t.equal(page.headers.get('content-security-policy'), `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; frame-ancestors 'none'`)
  const script = new RegExp(`sessionStorage.setItem\\("${CODE_STORAGE_KEY}", "([\\w-]{43})"\\); location.replace\\("/chat"\\)`).exec(page.text)
  t.ok(script, 'the code goes to sessionStorage, then the browser to the app page')
  t.equal((await exchange(app, script![1]!)).status, 200, 'and the code is good')
})

t.test('a code expires after 30 s of the injected clock', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const first = await toCallback(app)
  const { json: { code } } = await callback(first.jar, first.url)
  app.clock.advance(30_000)
  const late = await exchange(app, code)
  t.equal(late.status, 400)
  t.same(late.json, { error: 'invalid_grant', error_description: 'invalid code' })
  await stillServes(t, app)
})

t.test('POST /token refuses a missing or repeated code', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const missing = await answer(await fetch(`${app.base}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code' }) }))
  t.equal(missing.status, 400)
  t.same(missing.json, { error: 'invalid_request', error_description: 'missing code' })
  const twice = await answer(await fetch(`${app.base}/token`, { method: 'POST', body: 'grant_type=authorization_code&code=a&code=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }))
  t.equal(twice.status, 400)
  t.same(twice.json, { error: 'invalid_request', error_description: 'code must be one string' })
  const unknown = await exchange(app, 'not-a-code')
  t.equal(unknown.status, 400)
  t.same(unknown.json, { error: 'invalid_grant', error_description: 'invalid code' })
  await stillServes(t, app)
})
