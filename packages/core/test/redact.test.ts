import t from 'tap'
import {
  CREDENTIAL_WORDS, REDACTED, redactQuery, redactQueryInText, redactedRequestSerializer, redactingLoggerOptions,
} from '@wsauth/core'

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'

t.test('REDACTED and the credential words', async (t) => {
  t.equal(REDACTED, '[redacted]')
  t.ok(Object.isFrozen(CREDENTIAL_WORDS))
  t.ok(CREDENTIAL_WORDS.every((word) => word === word.toLowerCase() && !REDACTED.includes(word)),
    'lowercase, and none of them in the marker (redacting twice changes nothing)')
})

t.test('redactQuery: the whole query string goes when anything in it is credential-like', async (t) => {
  const cases: Array<[string, string]> = [
    ['/ws?token=abc', 'only'],
    ['/ws?room=1&token=abc&b=2', 'among others'],
    ['/nope?x="&token=abc', 'behind a quote'],
    ["/nope?x='&token=abc", 'behind an apostrophe'],
    ['/ws?x=<&token=abc>', 'between angle brackets'],
    ['/ws?access_token=abc', 'RFC 6750 §2.3'],
    ['/ws?Token=abc', 'capitalised'],
    ['/ws?TOKEN=abc', 'upper case'],
    ['/ws?%74oken=abc', 'encoded once'],
    ['/ws?%2574oken=abc', 'encoded twice'],
    ['/ws?%252574oken=abc', 'encoded three times'],
    ['/ws?%25%37%34oken=abc', 'the escape itself encoded'],
    ['/ws?%54%4F%4b%65%4E=abc', 'mixed-case hex, mixed-case name'],
    ['/ws;token=abc', 'a ; parameter with no ? at all'],
    ['/ws?a=1;token=abc', 'a ; separator'],
    ['/ws?a=1?token=abc', 'a second ?'],
    ['/ws?a=1&&token', 'a name with no value'],
    ['/ws?access+token=abc', '+ as a space'],
    ['/ws?to%zzken=1&token=abc', 'after an invalid escape'],
    ['/ws?x=%E0%A4&token=abc', 'after invalid UTF-8'],
    ['/ws?ticket=abc', 'a ticket'],
    ['/ws?id_token=abc&state=x', 'OpenID'],
    ['/ws?refresh_token=abc', 'a refresh token'],
    ['/ws?api_key=abc', 'an API key'],
    ['/ws?password=abc', 'a password'],
    ['/ws?X-Amz-Signature=abc', 'a signed URL'],
    ['/callback?code=abc&state=x', 'an OAuth authorization code'],
    ['/ws?next=%2Fws%3Ftoken%3Dabc', 'a URL nested in a value'],
    ['/ws?x=' + JWT, 'a JWT under an innocent name'],
    ['/ws?' + JWT, 'a JWT with no name at all'],
    ['/ws?x=' + '%65yJhbGciOi.eyJzdWIi', 'an encoded JWT'],
  ]
  for (const [url, name] of cases) {
    const start = url.search(/[?;]/)
    t.equal(redactQuery(url), `${url.slice(0, start + 1)}[redacted]`, name)
  }
})

t.test('redactQuery: fragments, escapes and JWTs in the path', async (t) => {
  t.equal(redactQuery('/ws#token=abc'), '/ws#[redacted]', 'no ?, a fragment')
  t.equal(redactQuery('/ws?x=1#&token=abc'), '/ws?[redacted]', 'a token behind #')
  t.equal(redactQuery('/ws%3Ftoken=abc'), '/ws[redacted]', 'an encoded ? in the path')
  t.equal(redactQuery('/ws%253Ftoken%253Dabc'), '/ws[redacted]', 'a doubly encoded ?')
  t.equal(redactQuery('/ws/a%20b/token?room=1'), '/ws/a[redacted]', 'a credential word after the first escape of a path')
  t.equal(redactQuery('/ws/' + JWT), '/ws/[redacted]', 'a JWT as a path segment')
  t.equal(redactQuery('/ws/' + JWT + '?room=1'), '/ws/[redacted]', 'and what follows it')
  t.equal(redactQuery(`/ws?x=%${'25'.repeat(8)}41`), '/ws?[redacted]', 'still encoded after eight rounds')
  t.equal(redactQuery(`/ws?x=%${'25'.repeat(7)}41`), `/ws?x=%${'25'.repeat(7)}41`, 'eight rounds decode to "A": kept')
})

t.test('redactQuery: user info always goes', async (t) => {
  t.equal(redactQuery('http://user:secret@host.example/ws'), 'http://[redacted]@host.example/ws')
  t.equal(redactQuery('HTTPS://u:p%40ss@host/ws?room=1'), 'HTTPS://[redacted]@host/ws?room=1', 'any scheme, any case')
  t.equal(redactQuery('//u:p@host/ws'), '//[redacted]@host/ws', 'scheme-relative')
  t.equal(redactQuery('http://token:abc@host/ws?token=def'), 'http://[redacted]@host/ws?[redacted]', 'and the query')
  t.equal(redactQuery('/ws?next=http://u:p@h/'), '/ws?next=http://[redacted]@h/', 'in a URL nested in the query')
  t.equal(redactQuery('/a/b@c'), '/a/b@c', 'an @ in a path is no user info')
})

t.test('redactQuery: keeps what carries no credential', async (t) => {
  const kept = [
    '/ws', '/ws?', '/ws?room=1&user=2', '/ws?x=%41', '/ws?a=1&&b=2', '/ws#frag', '/files/a%20b', '',
    'https://host.example:8443/ws?room=1', '/token', '/ws-ticket', '/ws?x=%zz', '/ws?x=%E0%A4',
  ]
  for (const url of kept) t.equal(redactQuery(url), url, JSON.stringify(url))
})

t.test('redactQuery: extra names', async (t) => {
  t.equal(redactQuery('/ws?k=abc&room=1', ['k']), '/ws?[redacted]', 'an extra name is a credential word too')
  t.equal(redactQuery('/ws?K=abc', ['k']), '/ws?[redacted]', 'in any case')
  t.equal(redactQuery('/ws?room=1', ['K']), '/ws?room=1', 'not elsewhere')
  t.equal(redactQuery('/ws?room=1', ['']), '/ws?room=1', 'an empty name matches nothing')
  t.equal(redactQuery('/ws?token=1', ['token']), '/ws?[redacted]', 'a built-in word given again')
})

t.test('redactQueryInText: every URL in a message or a JSON log line', async (t) => {
  t.equal(redactQueryInText('Route GET:/nope?token=abc not found'), 'Route GET:/nope?[redacted] not found')
  t.equal(redactQueryInText('a /x?token=1&b=2 and /y?%74oken=3 and /z?room=1'), 'a /x?[redacted] and /y?[redacted] and /z?room=1')
  t.equal(redactQueryInText('{"url":"/x?token=1","host":"h"}'), '{"url":"/x?[redacted]","host":"h"}', 'a JSON string ends at "')
  t.equal(redactQueryInText('{"msg":"Route GET:/nope?x=\\"&token=abc not found"}'), '{"msg":"Route GET:/nope?[redacted] not found"}',
    'an escaped quote is part of the URL')
  t.equal(redactQueryInText('{"msg":"GET:/nope?x=\\\\"},"token=abc"'), '{"msg":"GET:/nope?x=\\\\"},"token=abc"',
    'an escaped backslash is not an escaped quote: the string ends there')
  t.equal(redactQueryInText('{"path":"http://u:p\\"w@h/ws"}'), '{"path":"http://[redacted]@h/ws"}', 'user info in text')
  t.equal(redactQueryInText(`token ${JWT} leaked`), 'token [redacted] leaked', 'a bare JWT in a message')
  t.equal(redactQueryInText('an eyJ run with no dot, and /x?room=1'), 'an eyJ run with no dot, and /x?room=1', 'not a JWT')
  t.equal(redactQueryInText('no query here'), 'no query here')
  t.equal(redactQueryInText('what? token expired'), 'what? token expired', 'a ? that starts no URL')
  t.equal(redactQueryInText('/x?k=1', ['k']), '/x?[redacted]', 'extra names')
})

t.test('redactedRequestSerializer: Fastify default fields, url redacted, no header', async (t) => {
  const serialize = redactedRequestSerializer(['k'])
  t.strictSame(serialize({
    method: 'GET', url: '/ws?k=abc', headers: { 'accept-version': '1', referer: '/?token=x' }, host: 'h', ip: '127.0.0.1', socket: { remotePort: 5 },
  }), { method: 'GET', url: '/ws?[redacted]', version: '1', host: 'h', remoteAddress: '127.0.0.1', remotePort: 5 })
  t.strictSame(redactedRequestSerializer()({ method: 'GET', url: '/ws?access_token=a' }), {
    method: 'GET', url: '/ws?[redacted]', version: undefined, host: undefined, remoteAddress: undefined, remotePort: undefined,
  })
})

t.test('redactingLoggerOptions: every written line is redacted, Buffers included', async (t) => {
  const { streamWrite } = redactingLoggerOptions(['k']).hooks
  t.equal(streamWrite('{"level":30,"req":{"url":"/x?k=1"},"msg":"incoming request"}\n'),
    '{"level":30,"req":{"url":"/x?[redacted]"},"msg":"incoming request"}\n')
  t.equal(streamWrite('{"err":{"rawPacket":{"type":"Buffer","data":[71,69,84]},"message":"Parse Error"}}\n'),
    '{"err":{"rawPacket":"[redacted]","message":"Parse Error"}}\n')
  t.equal(streamWrite('{"msg":"request completed","responseTime":1.5}\n'), '{"msg":"request completed","responseTime":1.5}\n')
  t.equal(redactingLoggerOptions().hooks.streamWrite('{"msg":"Route GET:/x?token=1 not found"}'), '{"msg":"Route GET:/x?[redacted] not found"}')
})

t.test('linear in the length of the input: a 1 MiB URL of `eyJ`s, escapes or quotes is redacted at once', async (t) => {
  // Each `eyJ` here starts a would-be JWT; a pattern that rescanned the run from each of them took 1.4 s for 16 KiB and
  // would not finish this test. No time is measured: a quadratic version simply never gets to the assertions.
  const size = 1024 * 1024
  t.equal(redactQuery(`/ws/${'eyJ'.repeat(size / 3)}`), `/ws/${'eyJ'.repeat(size / 3)}`, 'a path of eyJs')
  t.equal(redactQuery(`/ws?${'eyJ'.repeat(size / 3)}.x`), '/ws?[redacted]', 'a query of eyJs, then a JWT\'s dot')
  t.equal(redactQueryInText(`"${'eyJ'.repeat(size / 3)}"`), `"${'eyJ'.repeat(size / 3)}"`, 'in text')
  t.equal(redactQuery(`/ws?x=${'%25'.repeat(size / 3)}`), `/ws?x=${'%25'.repeat(size / 3)}`, 'escapes')
  t.equal(redactQueryInText(`"/ws?x=${'\\"'.repeat(size / 2)}token"`), '"/ws?[redacted]"', 'escaped quotes')
})
