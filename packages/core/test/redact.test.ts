import t from 'tap'
import { REDACTED, redactQuery, redactQueryInText, redactedRequestSerializer, redactingLoggerOptions } from '@wsauth/core'

t.test('REDACTED', async (t) => {
  t.equal(REDACTED, '[redacted]')
})

t.test('redactQuery: named parameters', async (t) => {
  const names = ['token']
  t.equal(redactQuery('/ws?token=abc', names), '/ws?token=[redacted]', 'only')
  t.equal(redactQuery('/ws?token=abc&room=1', names), '/ws?token=[redacted]&room=1', 'first')
  t.equal(redactQuery('/ws?a=1&token=abc&b=2', names), '/ws?a=1&token=[redacted]&b=2', 'middle')
  t.equal(redactQuery('/ws?room=1&token=abc', names), '/ws?room=1&token=[redacted]', 'last')
  t.equal(redactQuery('/ws?token=a&x=1&token=b', names), '/ws?token=[redacted]&x=1&token=[redacted]', 'repeated')
  t.equal(redactQuery('/ws?token=&x=1', names), '/ws?token=[redacted]&x=1', 'empty value')
  t.equal(redactQuery('/ws?token&x=1', names), '/ws?token=[redacted]&x=1', 'no "=" at all')
  t.equal(redactQuery('/ws?token=a=b==', names), '/ws?token=[redacted]', 'value containing "="')
  t.equal(redactQuery('/ws?token=a%20b+c', names), '/ws?token=[redacted]', 'encoded value')
  t.equal(redactQuery('/ws?%74oken=abc', names), '/ws?%74oken=[redacted]', 'percent-encoded name')
  t.equal(redactQuery('/ws?%74%6F%6B%65%6E=abc', names), '/ws?%74%6F%6B%65%6E=[redacted]', 'fully encoded name')
  t.equal(redactQuery('/ws?%zz=abc&x=1', names), '/ws?%zz=[redacted]&x=1', 'undecodable name')
  t.equal(redactQuery('/ws?to%ken=abc', names), '/ws?to%ken=[redacted]', 'undecodable name')
  t.equal(redactQuery('/ws?access+token=abc', ['access token']), '/ws?access+token=[redacted]', '"+" is a space')
  t.equal(redactQuery('/ws?access%20token=abc', ['access token']), '/ws?access%20token=[redacted]', '%20 is a space')
  t.equal(redactQuery('/ws?token=a&ticket=b&x=c', ['token', 'ticket']), '/ws?token=[redacted]&ticket=[redacted]&x=c',
    'several names')
  t.equal(redactQuery('https://host.example:8443/ws?token=abc', names), 'https://host.example:8443/ws?token=[redacted]',
    'absolute URL')
})

t.test('redactQuery: keeps everything else', async (t) => {
  const names = ['token']
  t.equal(redactQuery('/ws?room=1&user=2', names), '/ws?room=1&user=2', 'other parameters')
  t.equal(redactQuery('/ws?Token=abc', names), '/ws?Token=abc', 'names are case-sensitive')
  t.equal(redactQuery('/ws?tokens=abc&xtoken=d', names), '/ws?tokens=abc&xtoken=d', 'no partial matches')
  t.equal(redactQuery('/ws?x=token', names), '/ws?x=token', 'a value equal to a name')
  t.equal(redactQuery('/ws?a=1&&b=2', names), '/ws?a=1&&b=2', 'empty parts')
  t.equal(redactQuery('/ws?', names), '/ws?', 'empty query')
  t.equal(redactQuery('/ws?token=abc#frag', names), '/ws?token=[redacted]#frag', 'keeps the fragment')
  t.equal(redactQuery('/ws?a=1&token=abc#x=1&token=2', names), '/ws?a=1&token=[redacted]#x=1&token=[redacted]',
    'a fragment is redacted too')
  t.equal(redactQuery('/ws?x=1#&token=abc', names), '/ws?x=1#&token=[redacted]', 'a token hidden behind #')
  t.equal(redactQuery('/ws', names), '/ws', 'no query')
  t.equal(redactQuery('/ws#token=abc', names), '/ws#token=[redacted]', 'no query, a fragment: redacted all the same')
  t.equal(redactQuery('', names), '', 'empty URL')
  t.equal(redactQuery('/ws?token=abc', []), '/ws?token=abc', 'no names')
  t.equal(redactQuery('/ws?%zz=abc', []), '/ws?%zz=abc', 'no names: nothing is redacted, not even undecodable names')
})

t.test('redactQueryInText: every query string in a message', async (t) => {
  const names = ['token']
  t.equal(redactQueryInText('Route GET:/nope?token=abc not found', names), 'Route GET:/nope?token=[redacted] not found')
  t.equal(redactQueryInText('a /x?token=1&b=2 and /y?%74oken=3', names), 'a /x?token=[redacted]&b=2 and /y?%74oken=[redacted]')
  t.equal(redactQueryInText('"url":"/x?token=1"', names), '"url":"/x?token=[redacted]"', 'stops at a quote')
  t.equal(redactQueryInText('no query here', names), 'no query here')
  t.equal(redactQueryInText('/x?room=1', names), '/x?room=1')
})

t.test('redactedRequestSerializer: Fastify default fields, url redacted', async (t) => {
  const serialize = redactedRequestSerializer(['token'])
  t.strictSame(serialize({
    method: 'GET', url: '/ws?token=abc', headers: { 'accept-version': '1' }, host: 'h', ip: '127.0.0.1', socket: { remotePort: 5 },
  }), { method: 'GET', url: '/ws?token=[redacted]', version: '1', host: 'h', remoteAddress: '127.0.0.1', remotePort: 5 })
  t.strictSame(serialize({ method: 'GET', url: '/ws' }), {
    method: 'GET', url: '/ws', version: undefined, host: undefined, remoteAddress: undefined, remotePort: undefined,
  })
})

t.test('redactingLoggerOptions: message strings are redacted, other arguments pass', async (t) => {
  const options = redactingLoggerOptions(['token'])
  const calls: unknown[][] = []
  const receiver = { name: 'logger' }
  options.hooks.logMethod.call(receiver, [{ a: 1 }, 'GET /x?token=abc %s', 7], function (this: unknown, ...args: unknown[]) {
    t.equal(this, receiver, 'called on the logger')
    calls.push(args)
  })
  t.strictSame(calls, [[{ a: 1 }, 'GET /x?token=[redacted] %s', 7]])
  t.equal(options.serializers.req({ method: 'GET', url: '/?token=x' }).url, '/?token=[redacted]')
})

t.test('redactQueryInText: a tail behind #, and quotes that a client can put in a URL', async (t) => {
  const names = ['token']
  t.equal(redactQueryInText('Route GET:/nope?x=1#&token=abc not found', names), 'Route GET:/nope?x=1#&token=[redacted] not found')
  t.equal(redactQueryInText("Route GET:/nope?token=ab'SECRET<x> not found", names), 'Route GET:/nope?token=[redacted] not found')
})
