import t from 'tap'
import { WsAuthOptionsError, readOptions } from '@wsauth/core'

const PLUGIN = '@wsauth/example'

function message (fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (!(error instanceof WsAuthOptionsError)) throw error
    t.equal(error.code, 'ERR_WSAUTH_OPTIONS')
    return error.message
  }
  throw new Error('expected a WsAuthOptionsError')
}

t.test('unknown option names are refused; Fastify\'s register options are not', async (t) => {
  t.equal(message(() => readOptions(PLUGIN, { orgins: [] }, ['origins'])), '@wsauth/example: option "orgins" is not an option of @wsauth/example')
  t.doesNotThrow(() => readOptions(PLUGIN, { prefix: '/x', logLevel: 'info', logSerializers: {} }, []))
  t.equal(message(() => readOptions(PLUGIN, 'yes', [])), '@wsauth/example: option "options" must be an object; got a string')
  t.doesNotThrow(() => readOptions(PLUGIN, undefined, []))
  t.equal(
    message(() => readOptions(PLUGIN, { basic: { tokenUser: 'x' } }, ['basic']).nested('basic', ['tokenUsername'])),
    '@wsauth/example: option "basic.tokenUser" is not an option of @wsauth/example'
  )
  t.equal(message(() => readOptions(PLUGIN, { basic: { prefix: 'x' } }, ['basic']).nested('basic', [])),
    '@wsauth/example: option "basic.prefix" is not an option of @wsauth/example', 'register options only at the top level')
})

t.test('each getter names the option and says what it must be', async (t) => {
  const read = (options: Record<string, unknown>) => readOptions(PLUGIN, options, Object.keys(options))
  t.equal(message(() => read({ mode: 'Close' }).oneOf('mode', ['http', 'close'])), '@wsauth/example: option "mode" must be one of "http", "close"; got "Close"')
  t.equal(message(() => read({ mode: 'a-very-long-string-that-could-be-a-secret-value' }).oneOf('mode', ['http', 'close'])),
    '@wsauth/example: option "mode" must be one of "http", "close"; got a string', 'a long string is not quoted back')
  t.equal(message(() => read({ ttl: -1 }).integer('ttl')), '@wsauth/example: option "ttl" must be an integer >= 1; got -1')
  t.equal(message(() => read({ ttl: 1.5 }).integer('ttl', 1, { min: 0, max: 10 })), '@wsauth/example: option "ttl" must be an integer from 0 to 10; got 1.5')
  t.equal(message(() => read({ ttl: '5' }).integer('ttl')), '@wsauth/example: option "ttl" must be an integer >= 1; got a string')
  t.equal(message(() => read({ origins: 'https://a.test' }).stringList('origins')),
    '@wsauth/example: option "origins" must be an array of non-empty strings; got a string')
  t.equal(message(() => read({ origins: [''] }).stringList('origins')), '@wsauth/example: option "origins" must be an array of non-empty strings; got an array')
  t.equal(message(() => read({ on: 'yes' }).boolean('on', false)), '@wsauth/example: option "on" must be true or false; got a string')
  t.equal(message(() => read({ name: '' }).string('name')), '@wsauth/example: option "name" must be a non-empty string; got a string')
  t.equal(message(() => read({ path: 'token' }).path('path', '/token')), '@wsauth/example: option "path" must be a path starting with "/" (no query, fragment or space)')
  t.equal(message(() => read({ path: '/a?b' }).path('path', '/token')), '@wsauth/example: option "path" must be a path starting with "/" (no query, fragment or space)')
  t.equal(message(() => read({ verify: 1 }).function('verify')), '@wsauth/example: option "verify" must be a function; got 1')
  t.equal(read({ x: 1 }).error('x', 'is wrong').message, '@wsauth/example: option "x" is wrong')
})

t.test('valid values and defaults come back as they are', async (t) => {
  const fn = (): void => {}
  const options = readOptions(PLUGIN, { mode: 'close', ttl: 0, origins: ['https://a.test'], on: true, name: 'n', path: '/p', verify: fn, store: 7 },
    ['mode', 'ttl', 'origins', 'on', 'name', 'path', 'verify', 'store', 'absent'])
  t.equal(options.oneOf('mode', ['http', 'close'], 'http'), 'close')
  t.equal(options.oneOf('absent', ['http', 'close'], 'http'), 'http')
  t.equal(options.oneOf('absent', ['http', 'close']), undefined)
  t.equal(options.integer('ttl', 5, { min: 0 }), 0)
  t.equal(options.integer('absent', 5), 5)
  t.equal(options.integer('absent'), undefined)
  t.strictSame(options.stringList('origins'), ['https://a.test'])
  t.equal(options.stringList('absent'), undefined)
  t.equal(options.boolean('on', false), true)
  t.equal(options.boolean('absent', false), false)
  t.equal(options.string('name'), 'n')
  t.equal(options.string('absent', 'd'), 'd')
  t.equal(options.path('path', '/token'), '/p')
  t.equal(options.path('absent', '/token'), '/token')
  t.equal(options.function('verify'), fn)
  t.equal(options.function('absent'), undefined)
  t.equal(options.raw('store'), 7)
  t.ok(options.has('store'))
  t.notOk(options.has('absent'))
  t.equal(options.nested('absent', []), undefined)
})
