// The routes on the WebSocket origin, from raw clients over TCP: POST and DELETE <prefix>/session (the cookie's
// attributes as the Set-Cookie header says them, every refusal with its exact status) and the iframe page with its CSP.
import { connect as netConnect } from 'node:net'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { unsign } from '@fastify/cookie'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { craftJwt, logCollector, nowSeconds } from '../../../test/helpers/index.ts'
import { COOKIE_SECRET, ORIGIN, SECRET, build, cookiePair, postSession, signedCookie, stillServes, type CookieFixture } from './fixture.ts'

const CHALLENGE = 'Bearer realm="wsauth"'
const INVALID_TOKEN = 'Bearer realm="wsauth", error="invalid_token"'
const INVALID_REQUEST = 'Bearer realm="wsauth", error="invalid_request"'

/** `Set-Cookie` split into its pair and its attributes, each as sent. */
function setCookieParts (response: Response): { pair: string, attributes: string[] } {
  const headers = response.headers.getSetCookie()
  if (headers.length !== 1) throw new Error(`expected one Set-Cookie, got ${headers.length}`)
  const [pair, ...attributes] = headers[0]!.split(';').map((part) => part.trim())
  return { pair: pair!, attributes }
}

async function refusal (
  t: Test,
  response: Response,
  status: number,
  wwwAuthenticate: string | null,
  body: { error: string, error_description: string }
): Promise<void> {
  t.equal(response.status, status, `status ${status}`)
  t.equal(response.headers.get('www-authenticate'), wwwAuthenticate, 'WWW-Authenticate')
  t.strictSame(await response.json(), body, 'body')
  t.strictSame(response.headers.getSetCookie(), [], 'no cookie set')
}

/** A good POST /session still sets a cookie that opens a socket. */
async function stillIssues (t: Test, fx: CookieFixture): Promise<void> {
  const response = await postSession(fx, fx.sign({ sub: 'probe' }))
  t.equal(response.status, 204, 'a good POST /session still works')
  const { socket } = await opened(fx.ws(), { headers: { cookie: cookiePair(response) }, origin: ORIGIN })
  t.equal(await nextMessage(socket), 'Welcome probe by cookie!')
  socket.close()
}

t.test('POST /ws-auth/session sets the signed token as an HttpOnly, SameSite=Strict cookie that dies with the token', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'alice' }, { expiresIn: 600 })
  const exp = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp
  const before = Date.now()
  const response = await postSession(fx, token)
  const after = Date.now()
  t.equal(response.status, 204)
  t.equal(response.headers.get('cache-control'), 'no-store')

  const { pair, attributes } = setCookieParts(response)
  const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]
  t.equal(name, 'wsauth')
  t.strictSame(unsign(value, COOKIE_SECRET), { valid: true, renew: false, value: token }, 'the token, signed with the key')
  const maxAge = Number(/^Max-Age=(\d+)$/.exec(attributes[0]!)?.[1])
  t.strictSame(attributes, [`Max-Age=${maxAge}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'], 'no Secure over http, no Domain, no Expires')
  t.ok(maxAge <= exp - Math.floor(before / 1000), 'Max-Age never outlives the token')
  t.ok(maxAge >= exp - Math.ceil(after / 1000) - 1, 'and is the token\'s remaining life, rounded down')

  const { socket } = await opened(fx.ws(), { headers: { cookie: pair }, origin: ORIGIN })
  t.equal(await nextMessage(socket), 'Welcome alice by cookie!', 'the cookie opens a socket')
  socket.close()
})

t.test('a token without exp: a browser-session cookie (no Max-Age)', async (t) => {
  const fx = await build(t)
  const response = await postSession(fx, craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice' }, SECRET))
  t.equal(response.status, 204)
  t.strictSame(setCookieParts(response).attributes, ['Path=/', 'HttpOnly', 'SameSite=Strict'])
})

t.test('key rotation: the first key signs', async (t) => {
  const OLD = 'the-previous-cookie-signing-key-000000000'
  const fx = await build(t, { plugin: { secret: [COOKIE_SECRET, OLD] } })
  const token = fx.sign({ sub: 'alice' })
  const value = setCookieParts(await postSession(fx, token)).pair.slice('wsauth='.length)
  t.strictSame(unsign(value, COOKIE_SECRET), { valid: true, renew: false, value: token })
  t.equal(unsign(value, OLD).valid, false)
})

t.test('over https (behind a proxy): __Host-wsauth, Secure', async (t) => {
  const fx = await build(t, { trustProxy: true })
  const response = await postSession(fx, fx.sign({ sub: 'alice' }, { expiresIn: 600 }), { 'x-forwarded-proto': 'https' })
  t.equal(response.status, 204)
  const { pair, attributes } = setCookieParts(response)
  t.match(pair, /^__Host-wsauth=/)
  t.match(attributes[0], /^Max-Age=\d+$/)
  t.strictSame(attributes.slice(1), ['Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict'])
  const { socket } = await opened(fx.ws(), { headers: { cookie: pair, 'x-forwarded-proto': 'https' }, origin: ORIGIN })
  t.equal(await nextMessage(socket), 'Welcome alice by cookie!')
  socket.close()
})

t.test('POST /ws-auth/session refusals: exact status, no cookie, the server serving on', async (t) => {
  const fx = await build(t)

  t.test('no Authorization: 401 with the challenge', async (t) => {
    await refusal(t, await postSession(fx, null), 401, CHALLENGE, { error: 'unauthorized', error_description: 'no credentials' })
    await stillIssues(t, fx)
  })

  t.test('another scheme carries no token: 401, as at the guard, whatever that scheme\'s syntax', async (t) => {
    for (const authorization of [
      `Basic ${Buffer.from('token:abc').toString('base64')}`,
      'Digest username="alice", realm="wsauth", nonce="abc", uri="/ws-auth/session", response="def"',
      'Negotiate',
    ]) {
      const response = await fetch(fx.http('/ws-auth/session'), { method: 'POST', headers: { authorization } })
      await refusal(t, response, 401, CHALLENGE, { error: 'unauthorized', error_description: 'no credentials' })
      const handshake = await refused(fx.ws(), { headers: { authorization }, origin: ORIGIN })
      t.equal(handshake.status, 401, `${authorization.slice(0, 6)}: the guard answers the same`)
      t.strictSame(JSON.parse(handshake.body), { error: 'unauthorized', error_description: 'no credentials' })
    }
    await stillIssues(t, fx)
  })

  t.test('Bearer with no token, or not token68: 400', async (t) => {
    for (const authorization of ['Bearer', 'Bearer a b']) {
      const response = await fetch(fx.http('/ws-auth/session'), { method: 'POST', headers: { authorization } })
      t.equal(response.status, 400, authorization)
      t.equal(response.headers.get('www-authenticate'), INVALID_REQUEST)
      t.strictSame(response.headers.getSetCookie(), [])
    }
    await stillIssues(t, fx)
  })

  t.test('a token over the length cap: 400', async (t) => {
    await refusal(t, await postSession(fx, 'a'.repeat(5000)), 400, INVALID_REQUEST, { error: 'invalid_request', error_description: 'credential too long' })
    await stillIssues(t, fx)
  })

  t.test('invalid, expired, revoked: 401 invalid_token', async (t) => {
    const expired = craftJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'alice', exp: nowSeconds() - 10 }, SECRET)
    const revoked = fx.sign({ sub: 'alice' }, { jti: 'gone', expiresIn: 60 })
    await fx.app.wsAuth.revokeToken('gone', Date.now() + 60_000)
    for (const [name, token, description] of [['junk', 'junk', 'invalid token'], ['expired', expired, 'invalid token'], ['revoked', revoked, 'token revoked']] as const) {
      t.test(name, async (t) => {
        await refusal(t, await postSession(fx, token), 401, INVALID_TOKEN, { error: 'invalid_token', error_description: description })
      })
    }
    await stillIssues(t, fx)
  })

  t.test('a cross-site or same-site (not same-origin) browser request: 403', async (t) => {
    for (const site of ['cross-site', 'same-site', 'none']) {
      await refusal(t, await postSession(fx, fx.sign({ sub: 'alice' }), { 'sec-fetch-site': site }), 403, null,
        { error: 'forbidden', error_description: 'not a same-origin request' })
    }
    t.equal((await postSession(fx, fx.sign({ sub: 'alice' }), { 'sec-fetch-site': 'same-origin' })).status, 204, 'same-origin: 204')
    await stillIssues(t, fx)
  })
})

/** A raw HTTP/1.1 request over TCP (the exact bytes, `Connection: close`): the status, the head, the body. */
function rawRequest (port: number, head: string[], body = ''): Promise<{ status: number, head: string, body: string }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1')
    let data = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { data += chunk })
    socket.on('end', () => {
      const end = data.indexOf('\r\n\r\n')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), head: data.slice(0, end), body: data.slice(end + 4) })
    })
    socket.on('error', reject)
    socket.end([...head, `Host: 127.0.0.1:${port}`, 'Connection: close', '', body].join('\r\n'), 'latin1')
  })
}

const NO_BODY_EXPECTED = { error: 'invalid_request', error_description: 'no request body expected' }

t.test('the session routes read no body: any empty one is accepted, a body is a 400', async (t) => {
  const fx = await build(t, { routes: (app) => { app.post('/echo-body', async (request) => request.body) } })
  const bearer = (): string => `Authorization: Bearer ${fx.sign({ sub: 'alice' }, { expiresIn: 600 })}`

  t.test('an empty body of any type, or none: 204 with the cookie', async (t) => {
    const empties: Array<[string, string[]]> = [
      ['curl -d \'\' (an empty form)', ['Content-Type: application/x-www-form-urlencoded', 'Content-Length: 0']],
      ['fetch with body \'\'', ['Content-Type: text/plain;charset=UTF-8', 'Content-Length: 0']],
      ['empty JSON', ['Content-Type: application/json', 'Content-Length: 0']],
      ['empty multipart', ['Content-Type: multipart/form-data; boundary=x', 'Content-Length: 0']],
      ['an unusual type', ['Content-Type: application/vnd.example+cbor', 'Content-Length: 0']],
      ['chunked, ending at once', ['Content-Type: application/x-www-form-urlencoded', 'Transfer-Encoding: chunked']],
      ['chunked, no type', ['Transfer-Encoding: chunked']],
      ['no type, no length', []],
    ]
    for (const [name, headers] of empties) {
      const chunked = headers.includes('Transfer-Encoding: chunked')
      const response = await rawRequest(fx.port, ['POST /ws-auth/session HTTP/1.1', bearer(), ...headers], chunked ? '0\r\n\r\n' : '')
      t.equal(response.status, 204, name)
      t.match(response.head, /\r\nSet-Cookie: wsauth=/i, `${name}: the cookie`)
    }
    t.equal((await fetch(fx.http('/ws-auth/session'), { method: 'POST', body: '', headers: { authorization: bearer().slice(15) } })).status, 204,
      'and through fetch')
    await stillIssues(t, fx)
  })

  t.test('a body: 400 invalid_request, no cookie, the connection closed, the server serving on', async (t) => {
    const bodies: Array<[string, string[], string]> = [
      ['a form with the token in it (RFC 6750 §2.2)', ['Content-Type: application/x-www-form-urlencoded', 'Content-Length: 9'], 'token=abc'],
      ['JSON', ['Content-Type: application/json', 'Content-Length: 2'], '{}'],
      ['no type', ['Content-Length: 1'], 'x'],
      ['chunked', ['Content-Type: text/plain', 'Transfer-Encoding: chunked'], '1\r\nx\r\n0\r\n\r\n'],
      ['larger than the body limit, never read', ['Content-Type: application/octet-stream', `Content-Length: ${2 * 1024 * 1024}`], 'x'.repeat(1024)],
    ]
    for (const [name, headers, body] of bodies) {
      const response = await rawRequest(fx.port, ['POST /ws-auth/session HTTP/1.1', bearer(), ...headers], body)
      t.equal(response.status, 400, name)
      t.match(response.head, /\r\nConnection: close\r\n/i, `${name}: connection closed`)
      t.match(response.head, /\r\nWWW-Authenticate: Bearer realm="wsauth", error="invalid_request"\r\n/i, `${name}: challenge`)
      t.notMatch(response.head, /Set-Cookie/i, `${name}: no cookie`)
      t.strictSame(JSON.parse(response.body), NO_BODY_EXPECTED, `${name}: body`)
    }
    await stillIssues(t, fx)
  })

  t.test('DELETE alike: an empty form clears the cookie, a body is refused and clears nothing', async (t) => {
    const empty = await rawRequest(fx.port, ['DELETE /ws-auth/session HTTP/1.1', 'Content-Type: application/x-www-form-urlencoded', 'Content-Length: 0'])
    t.equal(empty.status, 204)
    t.match(empty.head, /\r\nSet-Cookie: wsauth=; Max-Age=0/i)
    const withBody = await rawRequest(fx.port, ['DELETE /ws-auth/session HTTP/1.1', 'Content-Type: application/json', 'Content-Length: 2'], '{}')
    t.equal(withBody.status, 400)
    t.notMatch(withBody.head, /Set-Cookie/i)
    t.strictSame(JSON.parse(withBody.body), NO_BODY_EXPECTED)
    await stillIssues(t, fx)
  })

  t.test('a Content-Type that is no media type at all: Fastify\'s 415, as on every route', async (t) => {
    const response = await rawRequest(fx.port, ['POST /ws-auth/session HTTP/1.1', bearer(), 'Content-Type: nonsense', 'Content-Length: 0'])
    t.equal(response.status, 415)
    await stillIssues(t, fx)
  })

  t.test('the app\'s other routes keep their own body parsers', async (t) => {
    const response = await fetch(fx.http('/echo-body'), { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
    t.strictSame(await response.json(), { a: 1 })
  })
})

t.test('a client that goes away in the middle of its body: refused, logged at info, the server serving on', async (t) => {
  const lines: string[] = []
  let onLine = (): void => {}
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      lines.push(...String(chunk).split('\n').filter((line) => line !== ''))
      onLine()
      callback()
    },
  })
  const fx = await build(t, { logger: { level: 'info', stream } })
  const refused = (): boolean => lines.some((line) => line.includes('"outcome":"malformed"') && line.includes('wsauth session request refused'))
  const logged = new Promise<void>((resolve) => { onLine = () => { if (refused()) resolve() } })
  const socket = netConnect(fx.port, '127.0.0.1')
  socket.end(['POST /ws-auth/session HTTP/1.1', `Host: 127.0.0.1:${fx.port}`, 'Content-Type: text/plain', 'Content-Length: 10', '', ''].join('\r\n'))
  await logged
  t.ok(refused(), 'the cut-short body is refused as malformed, at info')
  t.notOk(lines.some((line) => /"level":50/.test(line)), 'nothing at error level')
  await stillIssues(t, fx)
})

t.test('POST /ws-auth/session with an opaque-token verifier', async (t) => {
  const fx = await build(t, {
    guard: {
      verify (token) {
        if (token === 'crash') throw new Error('db down: SELECT token FROM sessions')
        if (token === 'soon') return { subject: 'alice', expiresAt: Date.now() + 500 }
        if (token.startsWith('long')) return { subject: 'alice' }
        return token === 'probe' ? { subject: 'probe' } : null
      },
    },
  })
  const issue = async (): Promise<void> => {
    const response = await postSession(fx, 'probe')
    t.equal(response.status, 204, 'a good POST /session still works')
  }

  t.test('a token with under a second left: 401, rather than a cookie that is already dead', async (t) => {
    await refusal(t, await postSession(fx, 'soon'), 401, INVALID_TOKEN, { error: 'invalid_token', error_description: 'token expired' })
    await issue()
  })

  t.test('a token that fits the cap but not a cookie: 400, not a cookie the browser would drop', async (t) => {
    await refusal(t, await postSession(fx, `long${'a'.repeat(4070)}`), 400, INVALID_REQUEST,
      { error: 'invalid_request', error_description: 'token too long for a cookie' })
    t.equal((await postSession(fx, `long${'a'.repeat(4000)}`)).status, 204, 'one that fits: 204')
    await issue()
  })

  t.test('a verifier bug: 500 with the fixed reason, nothing leaked', async (t) => {
    const response = await postSession(fx, 'crash')
    const text = await response.text()
    t.equal(response.status, 500)
    t.strictSame(JSON.parse(text), { error: 'server_error', error_description: 'internal error' })
    t.notMatch(text, /SELECT|db down/)
    await issue()
  })
})

t.test('GET /ws-auth/session: does this request carry a working session cookie?', async (t) => {
  const fx = await build(t)
  const check = (headers: Record<string, string>): Promise<Response> => fetch(fx.http('/ws-auth/session'), { headers })
  const cookie = cookiePair(await postSession(fx, fx.sign({ sub: 'alice' })))
  const good = await check({ cookie, 'sec-fetch-site': 'same-origin' })
  t.equal(good.status, 204, 'yes: 204')
  t.equal(good.headers.get('cache-control'), 'no-store')
  await refusal(t, await check({}), 401, CHALLENGE, { error: 'unauthorized', error_description: 'no session cookie' })
  await refusal(t, await check({ cookie: `${cookie.slice(0, -2)}xx` }), 401, INVALID_TOKEN,
    { error: 'invalid_token', error_description: 'invalid session cookie' })
  await refusal(t, await check({ cookie: signedCookie('junk') }), 401, INVALID_TOKEN, { error: 'invalid_token', error_description: 'invalid token' })
  await refusal(t, await check({ cookie: `${cookie}; ${cookie}` }), 400, INVALID_REQUEST,
    { error: 'invalid_request', error_description: 'more than one session cookie' })
  await refusal(t, await check({ cookie, 'sec-fetch-site': 'cross-site' }), 403, null,
    { error: 'forbidden', error_description: 'not a same-origin request' })
  await stillServes(t, fx)
})

t.test('DELETE /ws-auth/session clears the cookie and closes that user\'s sockets', async (t) => {
  const fx = await build(t)
  const aliceCookie = signedCookie(fx.sign({ sub: 'alice' }))
  const open = async (cookie: string): Promise<Awaited<ReturnType<typeof opened>>['socket']> => {
    const { socket } = await opened(fx.ws(), { headers: { cookie }, origin: ORIGIN })
    await nextMessage(socket)
    return socket
  }
  const CLEARED = ['wsauth=', 'Max-Age=0', 'Path=/', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'HttpOnly', 'SameSite=Strict']
  const deleteSession = (headers: Record<string, string>): Promise<Response> =>
    fetch(fx.http('/ws-auth/session'), { method: 'DELETE', headers })

  t.test('a cross-site request: 403, nothing cleared, nothing closed', async (t) => {
    const socket = await open(aliceCookie)
    await refusal(t, await deleteSession({ cookie: aliceCookie, 'sec-fetch-site': 'cross-site' }), 403, null,
      { error: 'forbidden', error_description: 'not a same-origin request' })
    t.equal(fx.app.wsAuth.connectionCount('alice'), 1)
    const done = closed(socket)
    socket.close()
    await done
  })

  t.test('with the cookie: 204, cleared, alice\'s sockets closed with 4401, bob\'s untouched', async (t) => {
    const [first, second, bob] = [await open(aliceCookie), await open(aliceCookie), await open(signedCookie(fx.sign({ sub: 'bob' })))]
    const closing = [closed(first), closed(second)]
    const response = await deleteSession({ cookie: aliceCookie, 'sec-fetch-site': 'same-origin' })
    t.equal(response.status, 204)
    const { pair, attributes } = setCookieParts(response)
    t.strictSame([pair, ...attributes], CLEARED)
    t.strictSame(await Promise.all(closing), [{ code: 4401, reason: 'token revoked' }, { code: 4401, reason: 'token revoked' }])
    bob.send('still here')
    t.equal(await nextMessage(bob), 'You wrote: still here')
    bob.close()
    await stillServes(t, fx)
  })

  t.test('without a cookie, or with one that no longer verifies: 204 and cleared, nothing closed', async (t) => {
    const socket = await open(aliceCookie)
    for (const cookie of [null, `${aliceCookie.slice(0, -2)}xx`, signedCookie('junk'), `${aliceCookie}; ${aliceCookie}`]) {
      const response = await deleteSession(cookie === null ? {} : { cookie })
      t.equal(response.status, 204, String(cookie).slice(0, 20))
      const { pair, attributes } = setCookieParts(response)
      t.strictSame([pair, ...attributes], CLEARED)
    }
    t.equal(fx.app.wsAuth.connectionCount('alice'), 1, 'alice is still connected')
    const done = closed(socket)
    socket.close()
    await done
    await stillServes(t, fx)
  })
})

t.test('DELETE /ws-auth/session when verification fails on the server: cleared all the same, then 500', async (t) => {
  const fx = await build(t, {
    guard: { verify: (token) => { if (token === 'crash') throw new Error('db down'); return { subject: token } } },
  })
  const response = await fetch(fx.http('/ws-auth/session'), { method: 'DELETE', headers: { cookie: signedCookie('crash') } })
  t.equal(response.status, 500)
  t.strictSame(await response.json(), { error: 'server_error', error_description: 'internal error' })
  t.match(response.headers.getSetCookie()[0], /^wsauth=; Max-Age=0;/)
  t.equal((await postSession(fx, 'probe')).status, 204, 'the server still serves')
})

t.test('GET /ws-auth/iframe: no inline script, a CSP whose frame-ancestors is exactly the allowed parents', async (t) => {
  const fx = await build(t)
  const response = await fetch(fx.http('/ws-auth/iframe'))
  t.equal(response.status, 200)
  t.equal(response.headers.get('content-type'), 'text/html; charset=utf-8')
  t.equal(response.headers.get('content-security-policy'),
    "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors http://localhost:8000")
  t.equal(response.headers.get('x-frame-options'), null, 'frame-ancestors alone decides')
  t.equal(response.headers.get('cache-control'), 'no-store')
  const html = await response.text()
  t.strictSame(html.match(/<script[^>]*>/g), ['<script type="module" src="iframe.js">'], 'one script, external, same-origin')
  t.match(html, '<meta name="wsauth-parents" content="http://localhost:8000">')

  const script = await fetch(fx.http('/ws-auth/iframe.js'))
  t.equal(script.status, 200)
  t.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8')
  t.match(await script.text(), /addEventListener\('message'/)

  const client = await fetch(fx.http('/ws-auth/client.js'))
  t.equal(client.status, 200)
  t.equal(client.headers.get('content-type'), 'text/javascript; charset=utf-8')
  t.equal(client.headers.get('access-control-allow-origin'), '*', 'importable as a module from the app page\'s origin')
  t.match(await client.text(), /export function setSessionCookie/)
})

t.test('an upgrade request to the plugin\'s routes: 404, never a 101 nor an error line', async (t) => {
  const { stream, lines } = logCollector()
  const fx = await build(t, { logger: { level: 'info', stream } })
  const cookie = signedCookie(fx.sign({ sub: 'alice' }))
  for (const path of ['/ws-auth/iframe', '/ws-auth/iframe.js', '/ws-auth/session']) {
    const refusal = await refused(fx.ws(path), { headers: { cookie }, origin: ORIGIN })
    t.equal(refusal.status, 404, path)
  }
  t.notOk(lines.some((line) => (JSON.parse(line) as { level: number }).level >= 50), 'no error line')
  t.equal((await fetch(fx.http('/ws-auth/iframe'))).status, 200, 'the page is still served')
  await stillServes(t, fx)
})

t.test('parentOrigins and prefix options', async (t) => {
  const fx = await build(t, {
    plugin: { prefix: '/auth/cookie', parentOrigins: ['http://localhost:8000', 'https://App.Example.com:443'] },
  })
  const response = await fetch(fx.http('/auth/cookie/iframe'))
  t.match(response.headers.get('content-security-policy'), /; frame-ancestors http:\/\/localhost:8000 https:\/\/app\.example\.com$/)
  t.match(await response.text(), '<meta name="wsauth-parents" content="http://localhost:8000 https://app.example.com">')
  t.equal((await fetch(fx.http('/ws-auth/iframe'))).status, 404)
  const session = await fetch(fx.http('/auth/cookie/session'), { method: 'POST', headers: { authorization: `Bearer ${fx.sign({ sub: 'alice' })}` } })
  t.equal(session.status, 204)
})

t.test('no token or cookie reaches the log, at any level', async (t) => {
  const { stream, lines } = logCollector()
  const fx = await build(t, { logger: { level: 'trace', stream } })
  const token = fx.sign({ sub: 'alice' }, { expiresIn: 600 })
  const session = await postSession(fx, token)
  const cookie = cookiePair(session)
  const { socket } = await opened(fx.ws(), { headers: { cookie }, origin: ORIGIN })
  t.equal(await nextMessage(socket), 'Welcome alice by cookie!')
  socket.close()
  await postSession(fx, `${token}x`)
  await fetch(fx.http('/ws-auth/session'), { method: 'DELETE', headers: { cookie } })
  t.ok(lines.some((line) => line.includes('/ws-auth/session')), 'the requests were logged')
  t.ok(lines.some((line) => line.includes('wsauth session request refused')), 'and the refusal')
  const signature = cookie.slice(cookie.lastIndexOf('.') + 1)
  for (const secret of [token.split('.')[2]!, signature]) {
    t.notOk(lines.some((line) => line.includes(secret)), 'absent from every line')
  }
})
