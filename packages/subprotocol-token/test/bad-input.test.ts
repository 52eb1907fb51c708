// Every outcome of a token in Sec-WebSocket-Protocol, through the one outcome table: the exact status (and challenge
// and body) in HTTP mode, the exact close code in close mode, and after each a good handshake on the same server.
import t from 'tap'
import { JUPYTER_MARKER, tokenSubprotocol } from '@wsauth/subprotocol-token'
import { nextMessage, opened, rawHandshake, refused } from '../../../test/helpers/ws.ts'
import { build as buildApp, stillServes as appStillServes } from '../../../test/helpers/app.ts'
import { FORMATS, build, protocolLines, rawTokenProtocol, rawExchange, stillServes } from './fixture.ts'

const CHALLENGE = 'Bearer realm="wsauth"'
const INVALID_REQUEST_CHALLENGE = 'Bearer realm="wsauth", error="invalid_request"'
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="wsauth", error="invalid_token"'
const malformed = (description: string): { error: string, error_description: string } =>
  ({ error: 'invalid_request', error_description: description })
const INVALID = { error: 'invalid_token', error_description: 'invalid token' }
const NO_CREDENTIALS = { error: 'unauthorized', error_description: 'no credentials' }

const NOT_BASE64URL = 'token subprotocol is not base64url'
const NOT_PERCENT_ENCODED = 'token subprotocol is not percent-encoded'
const NOT_UTF8 = 'token subprotocol is not UTF-8'
const NOTHING_TO_ECHO = 'no supported subprotocol offered with the token'
const TWO_TOKENS = 'more than one token subprotocol'
const MALFORMED_LIST = 'malformed Sec-WebSocket-Protocol header'

function b64url (bytes: string | Buffer): string {
  return Buffer.from(bytes).toString('base64url')
}

/**
 * Sec-WebSocket-Protocol lines, each with what the guard must answer: a client library would refuse to send many of
 * them, so they go over a plain socket. Built per server, because some carry a good token that is refused for its
 * company.
 */
function malformedCases (goodToken: string): Array<[string, string[], string]> {
  const good = (format: (typeof FORMATS)[number]): string => tokenSubprotocol(goodToken, format)
  return [
    ...FORMATS.map((format): [string, string[], string] => [`${format}: a good token with no other protocol`, [good(format)], NOTHING_TO_ECHO]),
    ['a good token next to a protocol the route does not speak', [`chat.v2, ${good('wsauth')}`], NOTHING_TO_ECHO],
    ['a Kubernetes token next to the JEP 121 marker only', [`${JUPYTER_MARKER}, ${good('kubernetes')}`], NOTHING_TO_ECHO],
    ['two tokens of one format, one line', [`echo.v1, ${good('wsauth')}, ${rawTokenProtocol('wsauth', b64url('other'))}`], TWO_TOKENS],
    ['the same token twice in two formats', [`echo.v1, ${good('wsauth')}, ${good('kubernetes')}`], TWO_TOKENS],
    ['two tokens across two lines', [`echo.v1, ${good('jupyter')}`, good('kubernetes')], TWO_TOKENS],
    ['an empty token next to a good one', [`echo.v1, ${rawTokenProtocol('wsauth', '')}, ${good('kubernetes')}`], TWO_TOKENS],
    ['base64url with padding', [`echo.v1, ${rawTokenProtocol('wsauth', `${b64url('abcd')}==`)}`], NOT_BASE64URL],
    ['base64 alphabet: +', [`echo.v1, ${rawTokenProtocol('kubernetes', Buffer.from([0xfb, 0xef]).toString('base64'))}`], NOT_BASE64URL],
    ['base64 alphabet: /', [`echo.v1, ${rawTokenProtocol('wsauth', Buffer.from([0xff, 0xff]).toString('base64').replace(/=+$/, ''))}`], NOT_BASE64URL],
    ['base64url of impossible length (4n+1)', [`echo.v1, ${rawTokenProtocol('wsauth', 'abcde')}`], NOT_BASE64URL],
    ['base64url with unused bits set', [`echo.v1, ${rawTokenProtocol('wsauth', 'YR')}`], NOT_BASE64URL],
    ['base64url of bytes that are not UTF-8', [`echo.v1, ${rawTokenProtocol('kubernetes', b64url(Buffer.from([0x61, 0xff, 0xfe])))}`], NOT_UTF8],
    ['base64url of an overlong UTF-8 sequence', [`echo.v1, ${rawTokenProtocol('wsauth', b64url(Buffer.from([0xc0, 0xaf])))}`], NOT_UTF8],
    ['a bad percent escape', [`echo.v1, ${rawTokenProtocol('jupyter', 'ab%zzcd')}`], NOT_PERCENT_ENCODED],
    ['a truncated percent escape', [`echo.v1, ${rawTokenProtocol('jupyter', 'abcd%4')}`], NOT_PERCENT_ENCODED],
    ['a parenthesis (a separator) in a JEP 121 token', [`echo.v1, ${rawTokenProtocol('jupyter', 'a(b)')}`], NOT_PERCENT_ENCODED],
    ['percent-encoded bytes that are not UTF-8', [`echo.v1, ${rawTokenProtocol('jupyter', 'a%FFb')}`], NOT_UTF8],
    ['percent-encoded truncated UTF-8', [`echo.v1, ${rawTokenProtocol('jupyter', 'a%E0%A4')}`], NOT_UTF8],
    ['a token over the length cap', [`echo.v1, ${rawTokenProtocol('wsauth', b64url('a'.repeat(5000)))}`], 'credential too long'],
  ]
}

/** Offers whose application protocols are malformed themselves: ws refuses such a list too, whatever else happens. */
function malformedLists (goodToken: string): Array<[string, string[]]> {
  const good = tokenSubprotocol(goodToken, 'wsauth')
  return [
    ['an empty element in the list', [`echo.v1,, ${good}`]],
    ['an application protocol offered twice', [`echo.v1, echo.v1, ${good}`]],
    ['a separator in an application protocol', [`echo/v1, ${good}`]],
    ['a malformed list with no token at all', ['echo.v1, , chat.v2']],
  ]
}

t.test('HTTP mode: malformed offers are 400 invalid_request', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'alice' })
  const cases = [...malformedCases(token), ...malformedLists(token).map(([name, lines]) => [name, lines, MALFORMED_LIST] as const)]
  for (const [name, lines, description] of cases) {
    t.test(name, async (t) => {
      const before = fx.handled
      const raw = await rawExchange(fx.port, '/ws', lines.map((line) => `Sec-WebSocket-Protocol: ${line}`))
      t.equal(raw.status, 400, 'status 400')
      t.match(raw.head, `\r\nwww-authenticate: ${INVALID_REQUEST_CHALLENGE}\r\n`, 'the invalid_request challenge')
      t.strictSame(JSON.parse(raw.body), malformed(description), description)
      t.notOk(raw.head.includes(token) || raw.body.includes(token), 'no token in the answer')
      t.equal(fx.handled, before, 'no handler ran')
      await stillServes(t, fx)
    })
  }

  t.test('as a WebSocket client sends them: the same answers', async (t) => {
    for (const [protocols, description] of [
      [[tokenSubprotocol(token, 'wsauth')], NOTHING_TO_ECHO],
      [['echo.v1', tokenSubprotocol(token, 'wsauth'), tokenSubprotocol(token, 'kubernetes')], TWO_TOKENS],
      [['echo.v1', rawTokenProtocol('jupyter', 'a%FFb')], NOT_UTF8],
    ] as Array<[string[], string]>) {
      const refusal = await refused(fx.url(), { protocols })
      t.equal(refusal.status, 400)
      t.equal(refusal.headers['www-authenticate'], INVALID_REQUEST_CHALLENGE)
      t.strictSame(JSON.parse(refusal.body), malformed(description), description)
    }
    await stillServes(t, fx)
  })

  t.test('a malformed list next to an Authorization header: still 400 (ws refuses the list)', async (t) => {
    const raw = await rawHandshake(fx.port, '/ws', [`Authorization: Bearer ${fx.sign({ sub: 'alice' })}`, 'Sec-WebSocket-Protocol: echo.v1, , chat.v2'])
    t.equal(raw.status, 400)
    await stillServes(t, fx)
  })
})

t.test('HTTP mode: no credential and invalid tokens', async (t) => {
  const fx = await build(t, { guard: { query: true } })

  t.test('an empty token is no credential: 401 with the bare challenge', async (t) => {
    for (const format of FORMATS) {
      const refusal = await refused(fx.url(), { protocols: ['echo.v1', rawTokenProtocol(format, '')] })
      t.equal(refusal.status, 401, `${format}: 401`)
      t.equal(refusal.headers['www-authenticate'], CHALLENGE)
      t.strictSame(JSON.parse(refusal.body), NO_CREDENTIALS)
    }
    const alone = await rawHandshake(fx.port, '/ws', [`Sec-WebSocket-Protocol: ${rawTokenProtocol('wsauth', '')}`])
    t.equal(alone.status, 401, 'an empty token alone: no credential, not a token without a protocol')
    await stillServes(t, fx)
  })

  t.test('an empty token: the other transports are tried', async (t) => {
    const token = fx.sign({ sub: 'by-query' })
    const { socket, protocol } = await opened(fx.url(`/ws?token=${token}`), { protocols: ['echo.v1', rawTokenProtocol('kubernetes', '')] })
    t.equal(protocol, 'echo.v1')
    t.equal(await nextMessage(socket), 'Welcome by-query!')
    socket.close()
    await stillServes(t, fx)
  })

  t.test('an invalid token: 401 invalid_token, in every format', async (t) => {
    const forged = `${fx.sign({ sub: 'alice' }).slice(0, -4)}AAAA`
    for (const format of FORMATS) {
      for (const token of ['not-a-jwt', forged]) {
        const refusal = await refused(fx.url(), { protocols: ['echo.v1', tokenSubprotocol(token, format)] })
        t.equal(refusal.status, 401, `${format}: 401`)
        t.equal(refusal.headers['www-authenticate'], INVALID_TOKEN_CHALLENGE)
        t.strictSame(JSON.parse(refusal.body), INVALID)
      }
    }
    const jep = await refused(fx.url(), { protocols: [JUPYTER_MARKER, tokenSubprotocol('not-a-jwt', 'jupyter')] })
    t.equal(jep.status, 401, 'with the JEP 121 marker: 401')
    await stillServes(t, fx)
  })

  t.test('no token protocol, or no Sec-WebSocket-Protocol at all, and nothing else: 401', async (t) => {
    for (const protocols of [['echo.v1'], []]) {
      const refusal = await refused(fx.url(), { protocols })
      t.equal(refusal.status, 401, `offered ${JSON.stringify(protocols)}`)
      t.equal(refusal.headers['www-authenticate'], CHALLENGE)
      t.strictSame(JSON.parse(refusal.body), NO_CREDENTIALS)
    }
    await stillServes(t, fx)
  })
})

t.test('the Jupyter preset (invalidTokenStatus: 403): an invalid token is 403, the rest is unchanged', async (t) => {
  const fx = await build(t, { guard: { invalidTokenStatus: 403 } })
  for (const format of FORMATS) {
    const refusal = await refused(fx.url(), { protocols: ['echo.v1', tokenSubprotocol('not-a-jwt', format)] })
    t.equal(refusal.status, 403, `${format}: 403`)
    t.equal(refusal.headers['www-authenticate'], INVALID_TOKEN_CHALLENGE, 'the challenge still says why')
    t.strictSame(JSON.parse(refusal.body), INVALID)
  }
  const jep = await refused(fx.url(), { protocols: [JUPYTER_MARKER, tokenSubprotocol('not-a-jwt', 'jupyter')] })
  t.equal(jep.status, 403, 'a JEP 121 client: 403, as JEP 121 requires')
  t.equal((await refused(fx.url(), { headers: { Authorization: 'Bearer not-a-jwt' } })).status, 403, 'whatever the transport')
  t.equal((await refused(fx.url(), { protocols: ['echo.v1'] })).status, 401, 'no credential: still 401')
  t.equal((await rawHandshake(fx.port, '/ws', [`Sec-WebSocket-Protocol: ${tokenSubprotocol('not-a-jwt', 'wsauth')}`])).status, 400,
    'malformed: still 400')
  const closeMode = await rawExchange(fx.port, '/close-mode', [`Sec-WebSocket-Protocol: echo.v1, ${tokenSubprotocol('not-a-jwt', 'jupyter')}`])
  t.strictSame(closeMode.close, { code: 4401, reason: 'invalid token' }, 'close mode: 4401, as a wsauth client expects to refresh on')
  await stillServes(t, fx)
})

t.test('close mode: upgraded with an application protocol, then closed with the code', async (t) => {
  const fx = await build(t)
  const token = fx.sign({ sub: 'alice' })

  t.test('an invalid token: the 101 echoes echo.v1 (so a browser opens), then 4401', async (t) => {
    const before = fx.handled
    for (const format of FORMATS) {
      const offer = `echo.v1, ${tokenSubprotocol('not-a-jwt', format)}`
      const raw = await rawExchange(fx.port, '/close-mode', [`Sec-WebSocket-Protocol: ${offer}`])
      t.equal(raw.status, 101)
      t.strictSame(protocolLines(raw.head), ['Sec-WebSocket-Protocol: echo.v1'], `${format}: echo.v1 echoed`)
      t.notOk(raw.head.includes('not-a-jwt') || raw.head.includes(b64url('not-a-jwt')), 'no token in the 101')
      t.strictSame(raw.close, { code: 4401, reason: 'invalid token' })
    }
    // The JEP 121 marker is never echoed for a token that was not accepted: a browser fails this handshake (1006).
    const marker = await rawExchange(fx.port, '/close-mode', [`Sec-WebSocket-Protocol: ${JUPYTER_MARKER}, ${tokenSubprotocol('not-a-jwt', 'jupyter')}`])
    t.strictSame(protocolLines(marker.head), [], 'the marker is not echoed')
    t.strictSame(marker.close, { code: 4401, reason: 'invalid token' })
    t.equal(fx.handled, before, 'no handler ran')
    await stillServes(t, fx)
  })

  t.test('malformed offers: 4400', async (t) => {
    const before = fx.handled
    for (const [name, lines] of malformedCases(token)) {
      const raw = await rawExchange(fx.port, '/close-mode', lines.map((line) => `Sec-WebSocket-Protocol: ${line}`))
      t.equal(raw.status, 101, `${name}: upgraded`)
      t.strictSame(raw.close, { code: 4400, reason: 'bad request' }, `${name}: 4400`)
      t.notOk(raw.head.includes(token), `${name}: no token in the 101`)
    }
    t.equal(fx.handled, before, 'no handler ran')
    await stillServes(t, fx)
  })

  t.test('malformed application protocols: ws refuses the list before it upgrades, 400', async (t) => {
    const before = fx.handled
    for (const [name, lines] of malformedLists(token)) {
      const raw = await rawExchange(fx.port, '/close-mode', lines.map((line) => `Sec-WebSocket-Protocol: ${line}`))
      t.equal(raw.status, 400, name)
      t.notOk(raw.head.includes(token), `${name}: no token in the answer`)
    }
    t.equal(fx.handled, before, 'no handler ran')
    await stillServes(t, fx)
  })

  t.test('an empty token: no credential, 4401', async (t) => {
    const raw = await rawExchange(fx.port, '/close-mode', [`Sec-WebSocket-Protocol: echo.v1, ${rawTokenProtocol('wsauth', '')}`])
    t.strictSame(protocolLines(raw.head), ['Sec-WebSocket-Protocol: echo.v1'])
    t.strictSame(raw.close, { code: 4401, reason: 'unauthorized' })
    await stillServes(t, fx)
  })

  t.test('a good token on the close-mode route opens', async (t) => {
    const { socket, protocol } = await opened(fx.url('/close-mode'), { protocols: [tokenSubprotocol(token, 'kubernetes'), 'echo.v1'] })
    t.equal(protocol, 'echo.v1')
    t.equal(await nextMessage(socket), 'Welcome alice!')
    socket.close()
  })
})

t.test('a 15 KB list of empty or repeated names: 400, for the cost of one error, not one per name', async (t) => {
  // Cost is asserted by structure, not by the clock: the plugin is loaded with a WsAuthError that counts itself.
  const core = await import('@wsauth/core')
  let created = 0
  class CountedWsAuthError extends core.WsAuthError {
    constructor (...args: ConstructorParameters<typeof core.WsAuthError>) {
      super(...args)
      created++
    }
  }
  const counted = await t.mockImport<typeof import('@wsauth/subprotocol-token')>('@wsauth/subprotocol-token', {
    '@wsauth/core': { ...core, WsAuthError: CountedWsAuthError },
  })
  const fx = await buildApp(t, { plugins: async (app) => { await app.register(counted.default, { protocols: ['echo.v1'] }) } })
  for (const header of [','.repeat(15_000), 'x,'.repeat(7_500), `echo.v1, ${Array.from({ length: 300 }, () => 'base64url.bearer.wsauth.YQ').join(', ')}`]) {
    created = 0
    const raw = await rawExchange(fx.port, '/ws', [`Sec-WebSocket-Protocol: ${header}`])
    t.equal(raw.status, 400, `${header.slice(0, 12)}…: 400`)
    t.equal(created, 1, `${header.slice(0, 12)}…: one error made`)
  }
  await appStillServes(t, fx)
})
