import t from 'tap'
import { OriginAllowlist, normaliseOrigin } from '@wsauth/core'

t.test('normaliseOrigin: serialises an entry to its origin', async (t) => {
  t.equal(normaliseOrigin('https://app.example.com'), 'https://app.example.com')
  t.equal(normaliseOrigin('http://Example.com:80/'), 'http://example.com', 'host lowercased, default port and / dropped')
  t.equal(normaliseOrigin('HTTPS://APP.Example.COM:443'), 'https://app.example.com', 'default https port dropped')
  t.equal(normaliseOrigin('https://app.example.com/'), 'https://app.example.com')
  t.equal(normaliseOrigin('http://localhost:8000'), 'http://localhost:8000', 'other ports kept')
  t.equal(normaliseOrigin('https://example.com:80'), 'https://example.com:80', 'port 80 is not default for https')
  t.equal(normaliseOrigin('http://example.com:443'), 'http://example.com:443', 'port 443 is not default for http')
  t.equal(normaliseOrigin('http://127.0.0.1:3000'), 'http://127.0.0.1:3000')
  t.equal(normaliseOrigin('http://[::1]:8080'), 'http://[::1]:8080', 'IPv6')
  t.equal(normaliseOrigin('https://bücher.example'), 'https://xn--bcher-kva.example', 'IDN to punycode, as browsers send it')
})

t.test('normaliseOrigin: refuses what is not an origin', async (t) => {
  const refused = [
    '*',
    'null',
    '',
    'example.com',
    'https://*.example.com',
    'https://app.example.com/path',
    'https://app.example.com/path/',
    'https://user@app.example.com',
    'https://user:pass@app.example.com',
    'https://app.example.com?x=1',
    'https://app.example.com/#frag',
    'ftp://x',
    'ws://app.example.com',
    'wss://app.example.com',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/plain,x',
  ]
  for (const entry of refused) {
    t.throws(() => normaliseOrigin(entry), TypeError, JSON.stringify(entry))
  }
  t.throws(() => normaliseOrigin('*'), { name: 'TypeError', message: 'not an origin: "*"' })
  t.throws(() => normaliseOrigin('https://app.example.com/path'), {
    name: 'TypeError',
    message: 'not an origin: "https://app.example.com/path" (expected scheme://host[:port])',
  })
})

t.test('OriginAllowlist: construction', async (t) => {
  const list = new OriginAllowlist(['http://Example.com:80/', 'https://app.example.com:443', 'https://app.example.com'])
  t.strictSame([...list.origins], ['http://example.com', 'https://app.example.com'], 'normalised, deduplicated')
  t.equal(list.size, 2)

  const fromSet = new OriginAllowlist(new Set(['http://localhost:3000']))
  t.strictSame([...fromSet.origins], ['http://localhost:3000'], 'any iterable')

  const empty = new OriginAllowlist([])
  t.equal(empty.size, 0)
  t.equal(empty.allows('http://localhost:3000'), false, 'an empty list allows nothing')

  for (const entry of ['*', 'null', 'https://*.example.com', 'https://a.example.com/app', 'https://u@a.example.com',
    'https://a.example.com?x', 'ftp://x']) {
    t.throws(() => new OriginAllowlist(['https://ok.example.com', entry]), TypeError, `refuses ${entry}`)
  }
})

t.test('OriginAllowlist: allows', async (t) => {
  const list = new OriginAllowlist(['http://localhost:8000', 'https://App.Example.com:443/'])

  t.equal(list.allows('http://localhost:8000'), true, 'exact match')
  t.equal(list.allows('https://app.example.com'), true, 'exact match of a normalised entry')

  t.equal(list.allows(undefined), false, 'no Origin header')
  t.equal(list.allows(''), false, 'empty')
  t.equal(list.allows('null'), false, 'opaque origin')
  t.equal(list.allows('http://localhost:8000.evil.test'), false, 'lookalike suffix')
  t.equal(list.allows('https://app.example.com.evil.test'), false, 'lookalike suffix')
  t.equal(list.allows('https://evilapp.example.com'), false, 'lookalike prefix')
  t.equal(list.allows('https://evil.app.example.com'), false, 'subdomain')
  t.equal(list.allows('https://localhost:8000'), false, 'other scheme')
  t.equal(list.allows('http://app.example.com'), false, 'other scheme')
  t.equal(list.allows('http://localhost:8001'), false, 'other port')
  t.equal(list.allows('http://localhost'), false, 'no port')
  t.equal(list.allows('https://app.example.com:443'), false, 'explicit default port is not how browsers send it')
  t.equal(list.allows('http://localhost:8000/'), false, 'trailing slash')
  t.equal(list.allows('https://APP.example.com'), false, 'uppercase host as sent by a client')
  t.equal(list.allows('HTTP://localhost:8000'), false, 'uppercase scheme as sent by a client')
  t.equal(list.allows(' http://localhost:8000'), false, 'leading space')
  t.equal(list.allows('http://localhost:8000 '), false, 'trailing space')
  t.equal(list.allows('http://localhost:8000, https://app.example.com'), false, 'a list')
})
