import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import t, { type Test } from 'tap'
import { errors, exportJWK, generateKeyPair } from 'jose'
import { RemoteKeySet, UpstreamError, fetchJson } from '@wsauth/ws-bearer'

interface KeyServer {
  url: string
  requests: number
  answer: (request: IncomingMessage, response: ServerResponse) => void
}

async function keyServer (t: Test, answer: KeyServer['answer']): Promise<KeyServer> {
  const keys: KeyServer = { url: '', requests: 0, answer }
  const server = createServer((request, response) => {
    keys.requests++
    keys.answer(request, response)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  keys.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`
  return keys
}

const json = (body: unknown, status = 200) => (_request: IncomingMessage, response: ServerResponse) => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body))
}

async function publicJwk (kid: string) {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true })
  return { ...await exportJWK(publicKey), kid, alg: 'ES256' }
}

const header = (kid: string) => ({ alg: 'ES256', kid })

t.test('documents that are not a key set are bad responses; a failed first fetch is not retried within the cooldown', async (t) => {
  const cases: Array<[string, KeyServer['answer'], RegExp]> = [
    ['HTTP 500', json({}, 500), /: HTTP 500$/],
    ['not JSON', json('{"keys": ['), /: not JSON$/],
    ['not a JWKS', json({ keys: 'none' }), /: not a JSON Web Key Set$/],
    ['a redirect', (_request, response) => { response.writeHead(302, { location: '/elsewhere' }).end() }, /: request failed$/],
  ]
  for (const [name, answer, message] of cases) {
    const server = await keyServer(t, answer)
    const failures: UpstreamError[] = []
    const keys = new RemoteKeySet(server.url, { clock: () => 0, onFetchError: (error) => failures.push(error) })
    await t.rejects(keys.getKey(header('a'), { payload: '', signature: '' }), { name: 'UpstreamError', message }, name)
    await t.rejects(keys.getKey(header('a'), { payload: '', signature: '' }), { name: 'UpstreamError', message }, 'the same failure again')
    t.equal(server.requests, 1, 'without asking again within the cooldown')
    t.equal(failures.length, 1)
  }
})

t.test('a provider that does not answer in time is unreachable', async (t) => {
  const server = await keyServer(t, () => {})
  await t.rejects(fetchJson(server.url, 20), { name: 'UpstreamError', failure: 'unreachable', message: /: timed out$/ })
})

t.test('concurrent lookups share one fetch; an unknown kid after the cooldown fetches once more', async (t) => {
  const now = { ms: 0 }
  const jwks = { keys: [await publicJwk('a')] }
  const server = await keyServer(t, (request, response) => json(jwks)(request, response))
  const keys = new RemoteKeySet(server.url, { clock: () => now.ms, cooldownMs: 1000 })
  const found = await Promise.all(Array.from({ length: 5 }, () => keys.getKey(header('a'), { payload: '', signature: '' })))
  t.equal(found.length, 5)
  t.equal(server.requests, 1, 'one fetch for five lookups')

  jwks.keys.push(await publicJwk('b'))
  await t.rejects(keys.getKey(header('b'), { payload: '', signature: '' }), errors.JWKSNoMatchingKey, 'within the cooldown: the cached set')
  now.ms += 1000
  t.ok(await keys.getKey(header('b'), { payload: '', signature: '' }), 'past it: fetched, found')
  t.equal(server.requests, 2)
  now.ms += 1000
  await t.rejects(keys.getKey(header('c'), { payload: '', signature: '' }), errors.JWKSNoMatchingKey, 'a kid the fresh set lacks')
  t.equal(server.requests, 3)
})

t.test('keys older than maxAgeMs are fetched again; if that fails, the cached keys serve', async (t) => {
  const now = { ms: 0 }
  const jwks = { keys: [await publicJwk('a')] }
  let up = true
  const server = await keyServer(t, (request, response) => (up ? json(jwks) : json({}, 503))(request, response))
  const keys = new RemoteKeySet(server.url, { clock: () => now.ms, maxAgeMs: 60_000, cooldownMs: 1000 })
  await keys.getKey(header('a'), { payload: '', signature: '' })
  now.ms += 59_999
  await keys.getKey(header('a'), { payload: '', signature: '' })
  t.equal(server.requests, 1, 'fresh: not fetched')
  now.ms += 1
  up = false
  t.ok(await keys.getKey(header('a'), { payload: '', signature: '' }), 'stale and the provider fails: cached')
  t.equal(server.requests, 2)
  up = true
  now.ms += 1000
  await keys.getKey(header('a'), { payload: '', signature: '' })
  t.equal(server.requests, 3, 'still stale after the cooldown: fetched again, and now fresh')
  await keys.getKey(header('a'), { payload: '', signature: '' })
  t.equal(server.requests, 3)
})
