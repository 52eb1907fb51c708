// secured-echo's discovery document, as the page's client reads it: valid against @wsauth/core's schema, and listing
// what the page relies on (the ticket endpoint, in-band refresh on /secured-ws, the token and revoke endpoints).
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { buildApp } from '../src/app.ts'
import { configFromEnv } from '../src/config.ts'
import { discoveryErrors } from '../../../test/helpers/discovery.ts'

t.test('GET /.well-known/wsauth: valid against the schema, and what the page needs', async (t) => {
  const app = await buildApp(configFromEnv({ PORT: '0', LOG_LEVEL: 'silent' }, () => randomBytes(32).toString('base64url')))
  t.teardown(() => app.close())
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const response = await fetch(`${address}/.well-known/wsauth`)
  t.equal(response.status, 200)
  const document = await response.json()
  t.strictSame(discoveryErrors(document), [], 'valid')
  t.match(document, {
    endpoints: { token: '/token', revoke: '/revoke', cookie: '/ws-auth', ticket: '/ws-ticket' },
    inBand: { messages: { refresh: 'auth.refresh', expiring: 'auth.expiring' } },
    routes: [
      {
        path: '/secured-ws',
        protocols: ['echo.v1'],
        refresh: true,
        transports: { ticket: { endpoint: '/ws-ticket', param: 'ticket' }, subprotocol: { formats: Array } },
      },
      { path: '/first-message-ws', firstMessage: true, refresh: true },
    ],
  })
  const page = await (await fetch(address)).text()
  t.notMatch(page, /[?&]token=/, 'the page puts no token in a URL')
})
