import t from 'tap'
import { MAX_PORT_BASE, configFromEnv, pageOrigins } from '../src/config.ts'

const random = (): string => 'random-secret'

t.test('defaults: the page on 8000 on 127.0.0.1, random secrets', async (t) => {
  const config = configFromEnv({}, random)
  t.strictSame(config, {
    host: '127.0.0.1', portBase: 8000, logLevel: 'info', tokenTtlSeconds: 900, jwtSecret: 'random-secret', cookieSecrets: ['random-secret'],
  })
  t.strictSame(pageOrigins(config), { sameSite: 'http://localhost:8000', crossSite: 'http://127.0.0.1:8000' })
})

t.test('LAB_PORT_BASE moves the page and the apps; HOST and the secrets come from the environment', async (t) => {
  const config = configFromEnv({ LAB_PORT_BASE: '9100', HOST: '0.0.0.0', JWT_SECRET: 'jwt', COOKIE_SECRETS: 'new, old' }, random)
  t.equal(config.portBase, 9100)
  t.equal(config.host, '0.0.0.0')
  t.equal(config.jwtSecret, 'jwt')
  t.strictSame(config.cookieSecrets, ['new', 'old'])
  t.equal(pageOrigins(config).sameSite, 'http://localhost:9100')
  t.equal(configFromEnv({ LAB_PORT_BASE: String(MAX_PORT_BASE) }, random).portBase, 65529, 'the last base whose six apps fit')
})

t.test('a LAB_PORT_BASE that is not a port with six more after it is a startup error', async (t) => {
  for (const value of ['0', '-1', '65530', '80.5', 'eight', '1e3x']) {
    t.throws(() => configFromEnv({ LAB_PORT_BASE: value }, random), { message: `LAB_PORT_BASE must be an integer from 1 to 65529, got ${JSON.stringify(value)}` }, value)
  }
  t.throws(() => configFromEnv({ TOKEN_TTL_SECONDS: '0' }, random), /TOKEN_TTL_SECONDS must be an integer from 1/)
})
