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
  const raw = [
    'Host', 'example.com',
    'Authorization', 'Bearer one',
    'X-Other', 'x',
    'authorization', 'Bearer two',
    'AUTHORIZATION', 'Basic three',
    'Authorization', 'Bearer one',
  ]
  t.strictSame(headerLines(raw, 'authorization'), ['Bearer one', 'Bearer two', 'Basic three', 'Bearer one'],
    'case-insensitive, in order, duplicates kept')
  t.strictSame(headerLines(raw, 'Authorization'), ['Bearer one', 'Bearer two', 'Basic three', 'Bearer one'],
    'the name itself is case-insensitive')
  t.strictSame(headerLines(raw, 'host'), ['example.com'])
  t.strictSame(headerLines(raw, 'cookie'), [])
  t.strictSame(headerLines([], 'authorization'), [])
  t.strictSame(headerLines(['Authorization'], 'authorization'), [], 'a dangling name without a value is ignored')
  t.strictSame(headerLines(['Authorization', 'Bearer a', 'Authorization'], 'authorization'), ['Bearer a'])
  t.strictSame(headerLines(['X', 'Authorization'], 'authorization'), [], 'values are not matched as names')
})

t.test('parseAuthorization: no header', async (t) => {
  t.equal(parseAuthorization([]), null)
})

t.test('parseAuthorization: valid values', async (t) => {
  t.strictSame(parseAuthorization(['Bearer abc']), { scheme: 'bearer', credentials: 'abc' })
  t.strictSame(parseAuthorization(['bearer abc']), { scheme: 'bearer', credentials: 'abc' }, 'lowercase scheme')
  t.strictSame(parseAuthorization(['BEARER abc']), { scheme: 'bearer', credentials: 'abc' }, 'uppercase scheme')
  t.strictSame(parseAuthorization(['Basic dXNlcjpwYXNz']), { scheme: 'basic', credentials: 'dXNlcjpwYXNz' })
  t.strictSame(parseAuthorization(['Digest abc']), { scheme: 'digest', credentials: 'abc' },
    'an unknown scheme parses; the caller decides')
  t.strictSame(parseAuthorization(['X-Custom~1 abc']), { scheme: 'x-custom~1', credentials: 'abc' })
  t.strictSame(parseAuthorization(['Bearer abc=']), { scheme: 'bearer', credentials: 'abc=' }, 'token68 padding')
  t.strictSame(parseAuthorization(['Bearer abc==']), { scheme: 'bearer', credentials: 'abc==' }, 'token68 padding')
  t.strictSame(parseAuthorization(['Bearer aB0-._~+/']), { scheme: 'bearer', credentials: 'aB0-._~+/' },
    'every token68 character')
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl'
  t.strictSame(parseAuthorization([`Bearer ${jwt}`]), { scheme: 'bearer', credentials: jwt }, 'a JWT')
  t.strictSame(parseAuthorization(['Bearer    abc']), { scheme: 'bearer', credentials: 'abc' }, 'several spaces')
  t.strictSame(parseAuthorization(['  Bearer abc  ']), { scheme: 'bearer', credentials: 'abc' },
    'surrounding whitespace is trimmed')
  t.strictSame(parseAuthorization(['Bearer AbC']), { scheme: 'bearer', credentials: 'AbC' },
    'credentials keep their case')
})

t.test('parseAuthorization: malformed values', async (t) => {
  malformed(t, () => parseAuthorization(['Bearer a', 'Bearer b']), 'more than one Authorization header')
  malformed(t, () => parseAuthorization(['Bearer a', 'Bearer a']), 'more than one Authorization header', 'two identical lines')
  malformed(t, () => parseAuthorization(['Bearer a', '']), 'more than one Authorization header', 'a second empty line')
  malformed(t, () => parseAuthorization(['Bearer']), 'missing credentials', 'Bearer alone')
  malformed(t, () => parseAuthorization(['Bearer   ']), 'missing credentials', 'Bearer and spaces')
  malformed(t, () => parseAuthorization(['Basic']), 'missing credentials', 'Basic alone')
  malformed(t, () => parseAuthorization(['']), 'malformed Authorization header', 'empty value')
  malformed(t, () => parseAuthorization(['   ']), 'malformed Authorization header', 'blank value')
  malformed(t, () => parseAuthorization(['Bearer a b']), 'malformed Authorization header', 'space inside')
  malformed(t, () => parseAuthorization(['Bearer a,b']), 'malformed Authorization header', 'comma')
  malformed(t, () => parseAuthorization(['Bearer a=b, c=d']), 'malformed Authorization header', 'auth-param list')
  malformed(t, () => parseAuthorization(['Bearer realm="x"']), 'malformed Authorization header', 'quoted auth-param')
  malformed(t, () => parseAuthorization(['Bearer =abc']), 'malformed Authorization header', 'padding first')
  malformed(t, () => parseAuthorization(['Bearer ab=c']), 'malformed Authorization header', 'padding inside')
  malformed(t, () => parseAuthorization(['Bearer ===']), 'malformed Authorization header', 'padding only')
  malformed(t, () => parseAuthorization(['Bearer\tabc']), 'malformed Authorization header', 'tab separator')
  malformed(t, () => parseAuthorization(['Bearer ab"c']), 'malformed Authorization header', 'quote')
  malformed(t, () => parseAuthorization(['Bearer abç']), 'malformed Authorization header', 'non-ASCII')
  malformed(t, () => parseAuthorization(['Bearer abc\u0000']), 'malformed Authorization header', 'NUL')
  malformed(t, () => parseAuthorization(['Bea(rer abc']), 'malformed Authorization header', 'bad scheme character')
  malformed(t, () => parseAuthorization([' abc']), 'missing credentials', 'one word is a scheme without credentials')
})

t.test('parseAuthorization: length cap on the credentials', async (t) => {
  const atCap = 'a'.repeat(DEFAULT_MAX_CREDENTIAL_LENGTH)
  t.strictSame(parseAuthorization([`Bearer ${atCap}`]), { scheme: 'bearer', credentials: atCap },
    'exactly at the default cap')
  malformed(t, () => parseAuthorization([`Bearer ${atCap}a`]), 'credential too long', 'one over the default cap')
  malformed(t, () => parseAuthorization([`Bearer ${'a'.repeat(100_000)}`]), 'credential too long', 'far over the cap')

  t.strictSame(parseAuthorization(['Bearer abcdefghij'], 10), { scheme: 'bearer', credentials: 'abcdefghij' },
    'exactly at a custom cap')
  t.strictSame(parseAuthorization(['Bearer abcdefgh=='], 10), { scheme: 'bearer', credentials: 'abcdefgh==' },
    'padding counts towards the cap')
  malformed(t, () => parseAuthorization(['Bearer abcdefghijk'], 10), 'credential too long', 'one over a custom cap')
  malformed(t, () => parseAuthorization(['Bearer abcdefghi=='], 10), 'credential too long', 'over with padding')
  t.strictSame(parseAuthorization([`Bearer ${'a'.repeat(5000)}`], 5000), { scheme: 'bearer', credentials: 'a'.repeat(5000) },
    'a custom cap above the default')
  malformed(t, () => parseAuthorization(['Bearer   '], 1), 'missing credentials', 'a cap does not hide a missing credential')
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
