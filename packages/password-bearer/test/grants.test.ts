import t from 'tap'
import { WsAuthError } from '@wsauth/core'
import { OAuthError, type GrantContext, type GrantHandler } from '@wsauth/password-bearer'
import { closed, nextMessage, opened } from '../../../test/helpers/ws.js'
import { bearer, claimsOf, postForm, startServer, stillServes, type Answer, type Test, type TestServer } from './fixture.js'

const CODE = 'a-one-time-code-nobody-else-knows'

/** A grant like an authorization code exchange: `code` must be CODE; every call's context is kept. */
function codeGrant (): { handler: GrantHandler, calls: GrantContext[] } {
  const calls: GrantContext[] = []
  const handler: GrantHandler = async (context) => {
    calls.push(context)
    if (context.params.code !== CODE) throw new OAuthError('invalid_grant', 'invalid code')
    return { subject: 'alice', scopes: ['chat:read'] }
  }
  return { handler, calls }
}

function exchange (server: TestServer, fields: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  return postForm(`${server.base}/token`, { grant_type: 'authorization_code', code: CODE, ...fields }, headers)
}

async function serverWith (t: Test, grants: Record<string, GrantHandler>, options = {}): Promise<TestServer> {
  return await startServer(t, options, {
    prepare (app) {
      for (const [grantType, handler] of Object.entries(grants)) app.passwordBearer.addGrant(grantType, handler)
    },
  })
}

t.test('an added grant ends in the same tokens as a password grant: a family that refreshes and revokes', async (t) => {
  const { handler, calls } = codeGrant()
  const server = await serverWith(t, { authorization_code: handler })
  const result = await exchange(server)
  t.equal(result.status, 200)
  t.equal(result.headers.get('cache-control'), 'no-store')
  t.same(Object.keys(result.json).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.match(result.json, { token_type: 'Bearer', expires_in: 900, scope: 'chat:read' })
  t.match(claimsOf(server, result.json.access_token), { sub: 'alice', scope: 'chat:read', jti: String })

  t.equal(calls.length, 1)
  t.same(calls[0]!.params, { grant_type: 'authorization_code', code: CODE }, 'the request\'s parameters')
  t.equal(calls[0]!.request.ip, '127.0.0.1', 'the request')
  t.equal(calls[0]!.clientId, null, 'no client without client authentication')

  const { socket } = await opened(server.wsUrl, bearer(result.json.access_token))
  t.same(JSON.parse(await nextMessage(socket)), { subject: 'alice', scopes: ['chat:read'] })
  const refreshed = await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: result.json.refresh_token })
  t.equal(refreshed.status, 200, 'its refresh token rotates')
  t.equal(refreshed.json.scope, 'chat:read', 'within the scopes the grant gave')
  const socketClosed = closed(socket)
  t.equal((await postForm(`${server.base}/revoke`, { token: refreshed.json.refresh_token })).status, 200)
  t.same(await socketClosed, { code: 4401, reason: 'token revoked' }, 'revoking the family closes the grant\'s sockets')
  await stillServes(t, server)
})

t.test('a handler refuses with OAuthError, or with the outcome table\'s 429 and 503', async (t) => {
  const refusals: Record<string, Error> = {
    'urn:example:invalid-client': new OAuthError('invalid_client', 'unknown client'),
    'urn:example:throttled': new WsAuthError('rate_limited', 'too many codes', { retryAfter: 30 }),
    'urn:example:down': new WsAuthError('unavailable'),
  }
  const grants: Record<string, GrantHandler> = { authorization_code: codeGrant().handler }
  for (const [grantType, error] of Object.entries(refusals)) grants[grantType] = async () => { throw error }
  const server = await serverWith(t, grants)

  const wrongCode = await exchange(server, { code: 'guessed' })
  t.equal(wrongCode.status, 400)
  t.same(wrongCode.json, { error: 'invalid_grant', error_description: 'invalid code' })
  t.equal(wrongCode.headers.get('cache-control'), 'no-store')

  const invalidClient = await exchange(server, { grant_type: 'urn:example:invalid-client' })
  t.equal(invalidClient.status, 401)
  t.same(invalidClient.json, { error: 'invalid_client', error_description: 'unknown client' })
  t.equal(invalidClient.headers.get('www-authenticate'), 'Basic realm="wsauth", charset="UTF-8"')

  const throttled = await exchange(server, { grant_type: 'urn:example:throttled' })
  t.equal(throttled.status, 429)
  t.equal(throttled.headers.get('retry-after'), '30')
  t.same(throttled.json, { error: 'too_many_requests', error_description: 'too many codes' })

  const down = await exchange(server, { grant_type: 'urn:example:down' })
  t.equal(down.status, 503)
  t.same(down.json, { error: 'temporarily_unavailable', error_description: 'try again later' })

  const unknown = await exchange(server, { grant_type: 'urn:example:never-added' })
  t.equal(unknown.status, 400)
  t.same(unknown.json, { error: 'unsupported_grant_type', error_description: 'unsupported grant_type' })

  t.equal((await exchange(server)).status, 200, 'the grant still works')
  await stillServes(t, server)
})

t.test('anything else a handler throws or returns is a 500, logged without what the request sent', async (t) => {
  const server = await serverWith(t, {
    'urn:example:throws': async ({ params }) => { throw new Error(`no session for ${String(params.code)}`) },
    'urn:example:no-subject': async () => ({ subject: '', scopes: [] }),
    'urn:example:bad-scopes': async () => ({ subject: 'alice', scopes: 'chat:read' as unknown as string[] }),
  })
  for (const grantType of ['urn:example:throws', 'urn:example:no-subject', 'urn:example:bad-scopes']) {
    const result = await exchange(server, { grant_type: grantType })
    t.equal(result.status, 500, grantType)
    t.same(result.json, { error: 'server_error', error_description: 'internal error' }, grantType)
    t.equal(result.headers.get('cache-control'), 'no-store')
  }
  const twice = await postForm(`${server.base}/token`, { grant_type: 'urn:example:throws', code: [CODE, 'another-code-sent-twice'] })
  t.equal(twice.status, 500, 'a field given twice')
  const logs = server.logs.join('')
  t.match(logs, 'no session for [redacted]', 'the cause is logged')
  t.match(logs, 'no session for [redacted],[redacted]')
  t.notMatch(logs, CODE, 'without the code the request sent')
  t.notMatch(logs, 'another-code-sent-twice')
  t.match(logs, 'a grant handler must resolve a non-empty subject')
  t.match(logs, 'a grant handler\'s scopes must be an array')
  await stillServes(t, server)
})

t.test('with client authentication, the client is authenticated before the handler runs', async (t) => {
  const { handler, calls } = codeGrant()
  const server = await serverWith(t, { authorization_code: handler }, { clients: [{ id: 'web', secret: 'web secret' }] })
  const anonymous = await exchange(server)
  t.equal(anonymous.status, 401)
  t.equal(anonymous.json.error, 'invalid_client')
  const wrongSecret = await exchange(server, { client_id: 'web', client_secret: 'guess' })
  t.equal(wrongSecret.status, 401)
  t.equal(calls.length, 0, 'the handler never saw an unauthenticated request')

  const result = await exchange(server, { client_id: 'web', client_secret: 'web secret' })
  t.equal(result.status, 200)
  t.equal(calls[0]!.clientId, 'web')
  t.equal(claimsOf(server, result.json.access_token).client_id, 'web', 'the tokens are bound to the client')
  const otherClient = await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: result.json.refresh_token })
  t.equal(otherClient.status, 401, 'its refresh token needs the client too')
  t.equal((await exchange(server, { client_id: 'web', client_secret: 'web secret' })).status, 200, 'the server still serves')
})

t.test('addGrant: built-in names, duplicates, bad names and handlers, and after ready are errors', async (t) => {
  const { handler } = codeGrant()
  const server = await startServer(t, {}, {
    prepare (app) {
      const add = (grantType: unknown, grant: unknown = handler): void =>
        app.passwordBearer.addGrant(grantType as string, grant as GrantHandler)
      t.throws(() => add('password'), /"password" is built in and cannot be replaced/)
      t.throws(() => add('refresh_token'), /"refresh_token" is built in/)
      for (const name of ['', 'has space', 'caf\u00e9', 'a"b', 'urn:', 42, null]) {
        t.throws(() => add(name), /the grant type must be a grant name/, `grant type ${JSON.stringify(name)}`)
      }
      t.throws(() => add('magic', 'not a function'), /the handler must be a function/)
      add('authorization_code')
      t.throws(() => add('authorization_code'), /"authorization_code" was added already/)
      add('urn:ietf:params:oauth:grant-type:jwt-bearer')
    },
  })
  t.throws(() => server.app.passwordBearer.addGrant('late', handler), /grants are added before the server is ready/)
  t.equal((await exchange(server, { grant_type: 'late' })).json.error, 'unsupported_grant_type')
  t.equal((await exchange(server, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' })).status, 200)
  await stillServes(t, server)
})
