// The discovery document the page's client reads, served by the guard with each plugin's part, checked against the
// schema @wsauth/core publishes.
import t from 'tap'
import { discoveryErrors } from '../../../test/helpers/discovery.ts'
import { startNode } from './fixture.ts'

t.test('GET /.well-known/wsauth', async (t) => {
  const node = await startNode(t)
  const response = await fetch(`${node.origin}/.well-known/wsauth`)
  t.equal(response.status, 200)
  t.equal(response.headers.get('cache-control'), 'no-cache')
  const document = await response.json() as { routes: unknown[] }
  t.strictSame(discoveryErrors(document), [], 'valid against the schema')
  t.match(document.routes, [{ path: '/chat', mode: 'close', protocols: ['chat.v1'], refresh: true, transports: { subprotocol: {} } }])
  t.notMatch(JSON.stringify(document), /origin|secret|johndoe/i, 'nothing secret in it')
})
