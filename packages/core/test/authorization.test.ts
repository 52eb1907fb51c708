import t, { type Test } from 'tap'
import {
  DEFAULT_MAX_CREDENTIAL_LENGTH, WsAuthError, headerLines, parseAuthorization, decodeBasic, encodeBasic,
} from '@wsauth/core'

/** Runs `fn`, which must throw a `malformed` WsAuthError with `message`. */
function malformed (t: Test, fn: () => unknown, message: string, name = message): void {
  let thrown: unknown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  if (!(thrown instanceof WsAuthError)) {
    t.fail(`${name}: expected a WsAuthError, got ${String(thrown)}`)
    return
  }
  t.equal(thrown.outcome, 'malformed', `${name}: outcome`)
  t.equal(thrown.code, 'ERR_WSAUTH_MALFORMED', `${name}: code`)
  t.equal(thrown.message, message, `${name}: message`)
}

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64')

t.test('DEFAULT_MAX_CREDENTIAL_LENGTH', async (t) => {
  t.equal(DEFAULT_MAX_CREDENTIAL_LENGTH, 4096)
})

t.test('headerLines', async (t) => {
  const rawHeaders = [
    'Host', 'example.com',
    'Authorization', 'Bearer one',
    'X-Other', 'x',
    'authorization', 'Bearer two',
    'AUTHORIZATION', 'Basic three',
    'Authorization', 'Bearer one',
  ]
  // Node keeps only the first Authorization in `headers`: the lines come from `rawHeaders`.
  const request = { rawHeaders, headers: { authorization: 'Bearer one', host: 'example.com' } }
  t.strictSame(headerLines(request, 'authorization'), ['Bearer one', 'Bearer two', 'Basic three', 'Bearer one'],
    'case-insensitive, in order, duplicates kept')
  t.strictSame(headerLines(request, 'Authorization'), ['Bearer one', 'Bearer two', 'Basic three', 'Bearer one'],
    'the name itself is case-insensitive')
  t.strictSame(headerLines(request, 'host'), ['example.com'])
  t.strictSame(headerLines(request, 'cookie'), [])
  const raw = (lines: string[]): { rawHeaders: string[], headers: Record<string, string> } => ({ rawHeaders: lines, headers: {} })
  t.strictSame(headerLines(raw([]), 'authorization'), [])
  t.strictSame(headerLines(raw(['Authorization']), 'authorization'), [], 'a dangling name without a value is ignored')
  t.strictSame(headerLines(raw(['Authorization', 'Bearer a', 'Authorization']), 'authorization'), ['Bearer a'])
  t.strictSame(headerLines(raw(['X', 'Authorization']), 'authorization'), [], 'values are not matched as names')
})

t.test('headerLines: a request built without rawHeaders (injectWS) has only headers to give', async (t) => {
  t.strictSame(headerLines({ headers: { authorization: 'Bearer a' } }, 'Authorization'), ['Bearer a'])
  t.strictSame(headerLines({ headers: { 'sec-websocket-protocol': ['a', 'b'] } }, 'sec-websocket-protocol'), ['a', 'b'])
  t.strictSame(headerLines({ headers: {} }, 'authorization'), [])
})

const BEARER = ['bearer']
const BOTH = ['bearer', 'basic']

t.test('parseAuthorization: no header', async (t) => {
  t.equal(parseAuthorization([], BEARER), null)
})

t.test('parseAuthorization: valid values', async (t) => {
  t.strictSame(parseAuthorization(['Bearer abc'], BEARER), { scheme: 'bearer', credentials: 'abc' })
  t.strictSame(parseAuthorization(['bearer abc'], BEARER), { scheme: 'bearer', credentials: 'abc' }, 'lowercase scheme')
  t.strictSame(parseAuthorization(['BEARER abc'], BEARER), { scheme: 'bearer', credentials: 'abc' }, 'uppercase scheme')
  t.strictSame(parseAuthorization(['Basic dXNlcjpwYXNz'], BOTH), { scheme: 'basic', credentials: 'dXNlcjpwYXNz' })
  t.strictSame(parseAuthorization(['X-Custom~1 abc'], ['x-custom~1']), { scheme: 'x-custom~1', credentials: 'abc' },
    'any token is a scheme a caller may accept')
  t.strictSame(parseAuthorization(['Bearer abc='], BEARER), { scheme: 'bearer', credentials: 'abc=' }, 'token68 padding')
  t.strictSame(parseAuthorization(['Bearer abc=='], BEARER), { scheme: 'bearer', credentials: 'abc==' }, 'token68 padding')
  t.strictSame(parseAuthorization(['Bearer aB0-._~+/'], BEARER), { scheme: 'bearer', credentials: 'aB0-._~+/' },
    'every token68 character')
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl'
  t.strictSame(parseAuthorization([`Bearer ${jwt}`], BEARER), { scheme: 'bearer', credentials: jwt }, 'a JWT')
  t.strictSame(parseAuthorization(['Bearer    abc'], BEARER), { scheme: 'bearer', credentials: 'abc' }, 'several spaces')
  t.strictSame(parseAuthorization(['  Bearer abc  '], BEARER), { scheme: 'bearer', credentials: 'abc' },
    'surrounding whitespace (which Node trims anyway)')
  t.strictSame(parseAuthorization(['Bearer AbC'], BEARER), { scheme: 'bearer', credentials: 'AbC' },
    'credentials keep their case')
  const long = 'a'.repeat(100_000)
  t.strictSame(parseAuthorization([`Bearer ${long}`], BEARER), { scheme: 'bearer', credentials: long },
    'no length cap here: the guard caps every transport\'s credential in one place')
})

t.test('parseAuthorization: a scheme the caller does not accept carries no credential, whatever its syntax', async (t) => {
  for (const value of [
    'Digest username="alice", realm="wsauth", nonce="abc", uri="/ws", response="def"',
    'Negotiate',
    'Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACj',
    'Token a b c',
    ' abc',
    `Basic ${b64('user:pass')}`,
  ]) {
    t.equal(parseAuthorization([value], BEARER), null, value)
  }
  t.equal(parseAuthorization(['Basic !!!'], BEARER), null, 'Basic is judged only by a caller that accepts it')
  malformed(t, () => parseAuthorization(['Basic !!!'], BOTH), 'malformed Authorization header', 'a bad Basic where Basic is accepted')
})

t.test('parseAuthorization: malformed values', async (t) => {
  malformed(t, () => parseAuthorization(['Bearer a', 'Bearer b'], BEARER), 'more than one Authorization header')
  malformed(t, () => parseAuthorization(['Bearer a', 'Bearer a'], BEARER), 'more than one Authorization header', 'two identical lines')
  malformed(t, () => parseAuthorization(['Bearer a', ''], BEARER), 'more than one Authorization header', 'a second empty line')
  malformed(t, () => parseAuthorization(['Digest a="b"', 'Bearer a'], BEARER), 'more than one Authorization header',
    'two headers, whatever the scheme of either')
  malformed(t, () => parseAuthorization(['Bearer'], BEARER), 'missing credentials', 'Bearer alone')
  malformed(t, () => parseAuthorization(['Bearer   '], BEARER), 'missing credentials', 'Bearer and spaces')
  malformed(t, () => parseAuthorization(['Basic'], BOTH), 'missing credentials', 'Basic alone')
  malformed(t, () => parseAuthorization([''], BEARER), 'malformed Authorization header', 'empty value')
  malformed(t, () => parseAuthorization(['   '], BEARER), 'malformed Authorization header', 'blank value')
  malformed(t, () => parseAuthorization(['Bearer a b'], BEARER), 'malformed Authorization header', 'space inside')
  malformed(t, () => parseAuthorization(['Bearer a,b'], BEARER), 'malformed Authorization header', 'comma')
  malformed(t, () => parseAuthorization(['Bearer a=b, c=d'], BEARER), 'malformed Authorization header', 'auth-param list')
  malformed(t, () => parseAuthorization(['Bearer realm="x"'], BEARER), 'malformed Authorization header', 'quoted auth-param')
  malformed(t, () => parseAuthorization(['Bearer =abc'], BEARER), 'malformed Authorization header', 'padding first')
  malformed(t, () => parseAuthorization(['Bearer ab=c'], BEARER), 'malformed Authorization header', 'padding inside')
  malformed(t, () => parseAuthorization(['Bearer ==='], BEARER), 'malformed Authorization header', 'padding only')
  malformed(t, () => parseAuthorization(['Bearer\tabc'], BEARER), 'malformed Authorization header', 'tab separator')
  malformed(t, () => parseAuthorization(['Bearer \tabc'], BEARER), 'malformed Authorization header', 'a tab after the space')
  malformed(t, () => parseAuthorization(['Bearer ab"c'], BEARER), 'malformed Authorization header', 'quote')
  malformed(t, () => parseAuthorization(['Bearer abç'], BEARER), 'malformed Authorization header', 'non-ASCII')
  malformed(t, () => parseAuthorization(['Bearer abc\u0000'], BEARER), 'malformed Authorization header', 'NUL')
  malformed(t, () => parseAuthorization(['Bea(rer abc'], BEARER), 'malformed Authorization header', 'a first word that is no scheme')
})

t.test('decodeBasic: valid credentials', async (t) => {
  t.strictSame(decodeBasic(b64('user:pass')), { username: 'user', password: 'pass' })
  t.strictSame(decodeBasic('dXNlcjpwYXNz'), { username: 'user', password: 'pass' }, 'a literal value')
  t.strictSame(decodeBasic(b64('user:pa:ss:')), { username: 'user', password: 'pa:ss:' },
    'the password may contain ":" (split at the first)')
  t.strictSame(decodeBasic(b64('user:')), { username: 'user', password: '' }, 'empty password')
  t.strictSame(decodeBasic(b64(':pass')), { username: '', password: 'pass' }, 'empty username')
  t.strictSame(decodeBasic(b64(':')), { username: '', password: '' })
  t.strictSame(decodeBasic(b64('jöhn:pässwörd')), { username: 'jöhn', password: 'pässwörd' }, 'UTF-8')
  t.strictSame(decodeBasic(b64('用户:密码 🔑')), { username: '用户', password: '密码 🔑' }, 'UTF-8 beyond Latin-1')
  t.strictSame(decodeBasic(b64('user:a b')), { username: 'user', password: 'a b' }, 'space is not a control character')
  t.strictSame(decodeBasic(b64('u:p')), { username: 'u', password: 'p' }, 'padding "="')
  t.strictSame(decodeBasic(b64('us:p')), { username: 'us', password: 'p' }, 'no padding')
  t.strictSame(decodeBasic(b64('u:pa')), { username: 'u', password: 'pa' }, 'padding "=="')
})

t.test('decodeBasic: malformed credentials', async (t) => {
  malformed(t, () => decodeBasic('!!!'), 'Basic credentials are not base64', 'not base64')
  malformed(t, () => decodeBasic('!!!!'), 'Basic credentials are not base64', 'not base64, length 4')
  malformed(t, () => decodeBasic('dXNlcjpwYXNz='), 'Basic credentials are not base64', 'padding where none belongs')
  malformed(t, () => decodeBasic('dTpw='), 'Basic credentials are not base64', 'extra padding')
  malformed(t, () => decodeBasic('dTo==='), 'Basic credentials are not base64', 'three padding characters')
  malformed(t, () => decodeBasic('dTo'), 'Basic credentials are not base64', 'length not a multiple of 4')
  malformed(t, () => decodeBasic('dXNlcjpwYXN'), 'Basic credentials are not base64', 'missing padding')
  malformed(t, () => decodeBasic('dXNl=cjpw'), 'Basic credentials are not base64', 'padding inside')
  malformed(t, () => decodeBasic('dXNlcjpw-_'), 'Basic credentials are not base64', 'base64url alphabet')
  malformed(t, () => decodeBasic('dXNl cjpw'), 'Basic credentials are not base64', 'space inside')
  malformed(t, () => decodeBasic(b64('userpass')), 'Basic credentials have no colon', 'no colon')
  malformed(t, () => decodeBasic(''), 'Basic credentials have no colon', 'empty')
  malformed(t, () => decodeBasic(b64(Buffer.from([0xff, 0xfe]))), 'Basic credentials are not UTF-8', 'bytes 0xff 0xfe')
  malformed(t, () => decodeBasic(b64(Buffer.from([0x75, 0x3a, 0xc3]))), 'Basic credentials are not UTF-8', 'truncated sequence')
  malformed(t, () => decodeBasic(b64(Buffer.from([0x75, 0x3a, 0xc0, 0xba]))), 'Basic credentials are not UTF-8', 'overlong ":"')
  malformed(t, () => decodeBasic(b64(Buffer.from('u:p\u00e9', 'latin1'))), 'Basic credentials are not UTF-8', 'Latin-1 é')
  malformed(t, () => decodeBasic(b64('user:pa\u0000ss')), 'Basic credentials contain control characters', 'NUL')
  malformed(t, () => decodeBasic(b64('us\ner:pass')), 'Basic credentials contain control characters', 'LF in username')
  malformed(t, () => decodeBasic(b64('user:pass\r\n')), 'Basic credentials contain control characters', 'CRLF')
  malformed(t, () => decodeBasic(b64('user:\tpass')), 'Basic credentials contain control characters', 'tab')
  malformed(t, () => decodeBasic(b64('user:\u001fpass')), 'Basic credentials contain control characters', 'US (0x1f)')
  malformed(t, () => decodeBasic(b64('user:pass\u007f')), 'Basic credentials contain control characters', 'DEL')
})

t.test('encodeBasic', async (t) => {
  t.equal(encodeBasic('user', 'pass'), 'dXNlcjpwYXNz')
  t.equal(encodeBasic('Aladdin', 'open sesame'), 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==', 'RFC 7617 §2 example')
  t.equal(encodeBasic('test', '123\u00a3'), 'dGVzdDoxMjPCow==', 'RFC 7617 §2.1 example (UTF-8)')
  const pairs: Array<[string, string]> = [
    ['user', 'pass'], ['jöhn', 'p:a:ss'], ['', ''], ['user', ''], ['用户', '密码 🔑'],
  ]
  for (const [username, password] of pairs) {
    t.strictSame(decodeBasic(encodeBasic(username, password)), { username, password },
      `round trip ${JSON.stringify(username)}`)
  }
  t.throws(() => encodeBasic('us:er', 'pass'), new TypeError('a Basic username cannot contain ":"'))
  t.throws(() => encodeBasic(':', ''), TypeError)
})
