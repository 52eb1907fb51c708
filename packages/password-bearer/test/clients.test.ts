import t from 'tap'
import { encodeBasic } from '@wsauth/core'
import { closed, nextMessage, opened } from '../../../test/helpers/ws.js'
import { ALICE, bearer, claimsOf, postForm, postRaw, startServer, stillServes as stillServesAnonymously, type Answer, type Test, type TestServer } from './fixture.js'

const CLIENTS = [
  { id: 'web' },
  { id: 'cli', secret: 's3cret-with-enough-entropy' },
  { id: 'svc:1', secret: 'a b+c%d:e' },
]
const PASSWORD_GRANT = { grant_type: 'password', username: ALICE.username, password: ALICE.password }

// RFC 6749 §2.3.1: id and secret are form-urlencoded, then put into Basic credentials.
function basic (id: string, secret: string): Record<string, string> {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+')
  return { authorization: `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}` }
}

function assertInvalidClient (t: Test, result: Answer, description = 'client authentication failed'): void {
  t.equal(result.status, 401)
  t.same(result.json, { error: 'invalid_client', error_description: description })
  t.equal(result.headers.get('www-authenticate'), 'Basic realm="wsauth", charset="UTF-8"')
  t.equal(result.headers.get('cache-control'), 'no-store')
}

async function stillServes (t: Test, server: TestServer): Promise<void> {
  const result = await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('cli', 's3cret-with-enough-entropy'))
  t.equal(result.status, 200, 'the server still answers a good request')
}

t.test('a confidential client by HTTP Basic or by body parameters', async (t) => {
  const server = await startServer(t, { clients: CLIENTS })
  const byBasic = await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('cli', 's3cret-with-enough-entropy'))
  t.equal(byBasic.status, 200)
  t.equal(claimsOf(server, byBasic.json.access_token).client_id, 'cli', 'the token names its client (RFC 9068)')
  const byBody = await postForm(`${server.base}/token`, { ...PASSWORD_GRANT, client_id: 'cli', client_secret: 's3cret-with-enough-entropy' })
  t.equal(byBody.status, 200)
  const encoded = await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('svc:1', 'a b+c%d:e'))
  t.equal(encoded.status, 200, 'form-encoded id and secret are decoded')
  const sameId = await postForm(`${server.base}/token`, { ...PASSWORD_GRANT, client_id: 'cli' }, basic('cli', 's3cret-with-enough-entropy'))
  t.equal(sameId.status, 200, 'client_id in the body may repeat the Basic one')
  const { socket } = await opened(server.wsUrl, bearer(byBasic.json.access_token))
  t.match(JSON.parse(await nextMessage(socket)), { subject: 'alice' })
  socket.terminate()
})

t.test('a public client by client_id alone', async (t) => {
  const server = await startServer(t, { clients: CLIENTS })
  t.equal((await postForm(`${server.base}/token`, { ...PASSWORD_GRANT, client_id: 'web' })).status, 200)
  t.equal((await postForm(`${server.base}/token`, PASSWORD_GRANT, { authorization: `Basic ${encodeBasic('web', '')}` })).status, 200)
  assertInvalidClient(t, await postForm(`${server.base}/token`, { ...PASSWORD_GRANT, client_id: 'web', client_secret: 'guess' }))
})

t.test('failed client authentication: 401 invalid_client with a Basic challenge', async (t) => {
  const server = await startServer(t, { clients: CLIENTS })
  assertInvalidClient(t, await postForm(`${server.base}/token`, PASSWORD_GRANT), 'client authentication required')
  assertInvalidClient(t, await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('cli', 'wrong')))
  assertInvalidClient(t, await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('cli', 's3cret-with-enough-entropy-and-more')))
  assertInvalidClient(t, await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('cli', '')))
  assertInvalidClient(t, await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('nobody', 'x')))
  assertInvalidClient(t, await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('', 'x')), 'client authentication required')
  assertInvalidClient(t, await postForm(`${server.base}/token`, { ...PASSWORD_GRANT, client_id: 'cli', client_secret: 'wrong' }))
  assertInvalidClient(t, await postForm(`${server.base}/token`, { ...PASSWORD_GRANT, client_id: 'cli' }))
  assertInvalidClient(t, await postForm(`${server.base}/token`, { ...PASSWORD_GRANT, client_id: 'nobody' }))
  // Another scheme carries no client credentials (as everywhere in wsauth): the client did not authenticate.
  assertInvalidClient(t, await postForm(`${server.base}/token`, PASSWORD_GRANT, { authorization: 'Bearer some-token' }), 'client authentication required')
  assertInvalidClient(t, await postForm(`${server.base}/token`, PASSWORD_GRANT, { authorization: 'Digest username="cli", nonce="x"' }),
    'client authentication required')
  const wrongPasswordGoodClient = await postForm(`${server.base}/token`, { ...PASSWORD_GRANT, password: 'wrong' }, basic('cli', 's3cret-with-enough-entropy'))
  t.equal(wrongPasswordGoodClient.json.error, 'invalid_grant', 'client first, then the user')
  await stillServes(t, server)
})

t.test('malformed client authentication: 400 invalid_request', async (t) => {
  const server = await startServer(t, { clients: CLIENTS })
  const cases: Array<[string, Record<string, string | string[]>, Record<string, string>]> = [
    ['two methods', { ...PASSWORD_GRANT, client_secret: 's3cret-with-enough-entropy' }, basic('cli', 's3cret-with-enough-entropy')],
    ['a different client_id', { ...PASSWORD_GRANT, client_id: 'web' }, basic('cli', 's3cret-with-enough-entropy')],
    ['not base64', PASSWORD_GRANT, { authorization: 'Basic !!!!' }],
    ['no credentials', PASSWORD_GRANT, { authorization: 'Basic' }],
    ['no colon', PASSWORD_GRANT, { authorization: `Basic ${Buffer.from('cli').toString('base64')}` }],
    ['bad percent-encoding', PASSWORD_GRANT, { authorization: `Basic ${Buffer.from('cli:%zz').toString('base64')}` }],
    ['client_id twice', { ...PASSWORD_GRANT, client_id: ['cli', 'web'] }, {}],
    ['client_secret twice', { ...PASSWORD_GRANT, client_id: 'cli', client_secret: ['a', 'b'] }, {}],
  ]
  for (const [name, fields, headers] of cases) {
    const result = await postForm(`${server.base}/token`, fields, headers)
    t.equal(result.status, 400, name)
    t.equal(result.json.error, 'invalid_request', name)
    t.equal(result.headers.get('www-authenticate'), null, `${name}: no challenge`)
  }
  const longCredential = await postForm(`${server.base}/token`, PASSWORD_GRANT, { authorization: `Basic ${'A'.repeat(8000)}` })
  t.equal(longCredential.status, 400, 'over the credential length cap')
  await stillServes(t, server)
})

t.test('refresh tokens are bound to their client', async (t) => {
  const server = await startServer(t, { clients: CLIENTS })
  const tokens = (await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('cli', 's3cret-with-enough-entropy'))).json
  const stolen = await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'web' })
  t.same(stolen.json, { error: 'invalid_grant', error_description: 'invalid refresh token' })
  const own = await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic('cli', 's3cret-with-enough-entropy'))
  t.equal(own.status, 200, 'another client\'s attempt did not spend it')
  t.equal(claimsOf(server, own.json.access_token).client_id, 'cli')
})

t.test('revocation needs the same client authentication, and only reaches the client\'s own tokens', async (t) => {
  const server = await startServer(t, { clients: CLIENTS })
  const tokens = (await postForm(`${server.base}/token`, PASSWORD_GRANT, basic('cli', 's3cret-with-enough-entropy'))).json
  assertInvalidClient(t, await postForm(`${server.base}/revoke`, { token: tokens.access_token }), 'client authentication required')
  assertInvalidClient(t, await postForm(`${server.base}/revoke`, { token: tokens.access_token }, basic('cli', 'wrong')))

  for (const token of [tokens.access_token, tokens.refresh_token]) {
    const byOther = await postForm(`${server.base}/revoke`, { token, client_id: 'web' })
    t.equal(byOther.status, 200, 'another client gets the answer an unknown token gets')
  }
  const { socket } = await opened(server.wsUrl, bearer(tokens.access_token))
  t.match(JSON.parse(await nextMessage(socket)), { subject: ALICE.username }, 'the access token still works')

  const socketClosed = closed(socket)
  const byOwner = await postRaw(`${server.base}/revoke`, `token=${tokens.refresh_token}`, {
    'content-type': 'application/x-www-form-urlencoded', ...basic('cli', 's3cret-with-enough-entropy'),
  })
  t.equal(byOwner.status, 200)
  t.equal((await socketClosed).code, 4401, 'the owner revokes the family')
  await stillServes(t, server)
})

t.test('without `clients`, client credentials are ignored', async (t) => {
  const server = await startServer(t)
  for (const headers of [basic('anyone', 'anything'), { authorization: 'Bearer x' }, { authorization: 'Basic !!!!' }]) {
    t.equal((await postForm(`${server.base}/token`, { ...PASSWORD_GRANT, client_id: ['a', 'b'] }, headers)).status, 200)
  }
  await stillServesAnonymously(t, server)
})

t.test('the realm of the challenge is configurable and quoted', async (t) => {
  const server = await startServer(t, { clients: CLIENTS, realm: 'chat "prod"' })
  const result = await postForm(`${server.base}/token`, PASSWORD_GRANT)
  t.equal(result.headers.get('www-authenticate'), 'Basic realm="chat \\"prod\\"", charset="UTF-8"')
  await stillServes(t, server)
})
