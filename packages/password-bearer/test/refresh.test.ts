import { createHash } from 'node:crypto'
import t from 'tap'
import { MemoryRefreshTokenStore, type RefreshTokenStore } from '@wsauth/password-bearer'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.js'
import { ALICE, bearer, claimsOf, login, postForm, postJson, startServer, stillServes, type Answer, type TestServer } from './fixture.js'

function refresh (server: TestServer, refreshToken: string, fields: Record<string, string> = {}): Promise<Answer> {
  return postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, ...fields })
}

function hashOf (token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

t.test('rotation: each refresh token buys one new pair', async (t) => {
  const store = new MemoryRefreshTokenStore()
  const server = await startServer(t, { refreshTokens: store })
  const first = await login(server)
  const stored = await store.find(hashOf(first.refresh_token))
  t.match(stored, { subject: 'alice', scopes: ALICE.scopes, clientId: null, usedAt: null }, 'stored under its SHA-256')
  t.equal(await store.find(first.refresh_token), null, 'never under the token itself')

  const second = await refresh(server, first.refresh_token)
  t.equal(second.status, 200)
  t.equal(second.headers.get('cache-control'), 'no-store')
  t.equal(second.headers.get('pragma'), 'no-cache')
  t.same(Object.keys(second.json).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
  t.match(second.json, { token_type: 'Bearer', expires_in: 900, scope: 'chat:read chat:write' })
  t.not(second.json.refresh_token, first.refresh_token, 'a new refresh token')
  const claims = claimsOf(server, second.json.access_token)
  t.match(claims, { sub: 'alice', scope: 'chat:read chat:write' })
  t.not(claims.jti, claimsOf(server, first.access_token).jti)
  t.equal((await store.find(hashOf(second.json.refresh_token)))?.familyId, stored?.familyId, 'in the same family')
  t.type((await store.find(hashOf(first.refresh_token)))?.usedAt, 'number', 'the old token is marked used')

  const third = await postJson(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: second.json.refresh_token })
  t.equal(third.status, 200, 'JSON works too')
  const { socket } = await opened(server.wsUrl, bearer(third.json.access_token))
  t.match(JSON.parse(await nextMessage(socket)), { subject: 'alice' })
  socket.terminate()
})

t.test('reusing a rotated refresh token revokes its whole family and closes its sockets', async (t) => {
  const server = await startServer(t)
  const first = await login(server)
  const second = (await refresh(server, first.refresh_token)).json
  const other = await login(server)

  const live = await opened(server.wsUrl, bearer(second.access_token))
  t.match(JSON.parse(await nextMessage(live.socket)), { subject: 'alice' })
  const older = await opened(server.wsUrl, bearer(first.access_token))
  await nextMessage(older.socket)
  const otherFamily = await opened(server.wsUrl, bearer(other.access_token))
  await nextMessage(otherFamily.socket)
  const liveClosed = closed(live.socket)
  const olderClosed = closed(older.socket)

  const reuse = await refresh(server, first.refresh_token)
  t.equal(reuse.status, 400)
  t.same(reuse.json, { error: 'invalid_grant', error_description: 'invalid refresh token' })
  t.same(await liveClosed, { code: 4401, reason: 'token revoked' }, 'the newest access token\'s socket closes with 4401')
  t.same(await olderClosed, { code: 4401, reason: 'token revoked' }, 'so does the first one\'s')

  t.equal((await refused(server.wsUrl, bearer(second.access_token))).status, 401, 'the next handshake is refused')
  t.equal((await refused(server.wsUrl, bearer(first.access_token))).status, 401)
  t.equal((await refresh(server, second.refresh_token)).json.error, 'invalid_grant', 'the current refresh token is dead too')

  otherFamily.socket.send('still here?')
  t.equal(await nextMessage(otherFamily.socket), 'echo: still here?', 'another family is untouched')
  t.equal((await refresh(server, other.refresh_token)).status, 200)
  otherFamily.socket.terminate()
  await stillServes(t, server)
})

t.test('a narrower scope on refresh, never a wider one', async (t) => {
  const server = await startServer(t)
  const first = await login(server)
  const narrow = await refresh(server, first.refresh_token, { scope: 'chat:read' })
  t.equal(narrow.status, 200)
  t.equal(narrow.json.scope, 'chat:read')
  t.equal(claimsOf(server, narrow.json.access_token).scope, 'chat:read')

  const wide = await refresh(server, narrow.json.refresh_token, { scope: 'chat:read admin' })
  t.equal(wide.status, 400)
  t.same(wide.json, { error: 'invalid_scope', error_description: 'scope not granted' })
  const malformed = await refresh(server, narrow.json.refresh_token, { scope: 'chat:read  chat:write' })
  t.same(malformed.json, { error: 'invalid_scope', error_description: 'malformed scope' })

  const back = await refresh(server, narrow.json.refresh_token)
  t.equal(back.status, 200, 'a refused scope did not spend the token')
  t.equal(back.json.scope, 'chat:read chat:write', 'without a scope: everything granted at login (RFC 6749 §6)')

  const loggedInNarrow = await login(server, { scope: 'chat:read' })
  const cannotWiden = await refresh(server, loggedInNarrow.refresh_token, { scope: 'chat:write' })
  t.equal(cannotWiden.json.error, 'invalid_scope', 'a family never grows beyond its login')
})

t.test('unknown, expired, missing and malformed refresh tokens', async (t) => {
  const store = new MemoryRefreshTokenStore()
  const server = await startServer(t, { refreshTokens: store })
  for (const token of ['unknown', 'x'.repeat(43), 'eyJhbGciOiJIUzI1NiJ9.e30.sig']) {
    t.same((await refresh(server, token)).json, { error: 'invalid_grant', error_description: 'invalid refresh token' })
  }
  const expired = 'an-expired-refresh-token'
  await store.save(hashOf(expired), {
    familyId: 'f', subject: 'alice', scopes: [], clientId: null, expiresAt: Date.now() - 1, usedAt: null,
  }, { tokenId: 'j', expiresAt: Date.now() - 1 })
  t.equal((await refresh(server, expired)).json.error, 'invalid_grant', 'expired')

  const missing = await postForm(`${server.base}/token`, { grant_type: 'refresh_token' })
  t.same(missing.json, { error: 'invalid_request', error_description: 'missing refresh_token' })
  const tokens = await login(server)
  const repeated = await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: [tokens.refresh_token, 'x'] })
  t.same(repeated.json, { error: 'invalid_request', error_description: 'refresh_token must be one string' })
  const typed = await postJson(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: 12345 })
  t.equal(typed.json.error, 'invalid_request')
  t.equal((await refresh(server, tokens.refresh_token)).status, 200, 'the token survived the malformed requests')
  await stillServes(t, server)
})

t.test('refresh checks the user again', async (t) => {
  const server = await startServer(t)
  const tokens = await login(server)
  await server.users.add(ALICE.username, ALICE.password, { scopes: ['chat:read'] })
  const fewer = await refresh(server, tokens.refresh_token)
  t.equal(fewer.json.scope, 'chat:read', 'a scope the user lost is not granted again')
  const asked = await refresh(server, fewer.json.refresh_token, { scope: 'chat:write' })
  t.equal(asked.status, 200, 'asking for a lost scope (still in the family) grants what is left')
  t.notOk('scope' in asked.json, 'here, nothing')
  t.equal(claimsOf(server, asked.json.access_token).scope, '')

  const { socket } = await opened(server.wsUrl, bearer(asked.json.access_token))
  await nextMessage(socket)
  const socketClosed = closed(socket)
  await server.users.add(ALICE.username, ALICE.password, { disabled: true })
  t.equal((await refresh(server, asked.json.refresh_token)).json.error, 'invalid_grant', 'a disabled user cannot refresh')
  t.same(await socketClosed, { code: 4401, reason: 'token revoked' }, 'and the family is ended')
  await server.users.add(ALICE.username, ALICE.password)
  t.equal((await refresh(server, asked.json.refresh_token)).json.error, 'invalid_grant', 'for good')
  await stillServes(t, server)
})

t.test('a reuse that ends the family during a rotation ends the new pair too', async (t) => {
  const inner = new MemoryRefreshTokenStore()
  let raceOnce = false
  // Plays a concurrent reuse: between this rotation's markUsed and its save, another request ends the family.
  const racing: RefreshTokenStore = {
    find: (hash) => inner.find(hash),
    save: (hash, record, accessToken) => inner.save(hash, record, accessToken),
    deleteFamily: (familyId) => inner.deleteFamily(familyId),
    async markUsed (hash, at) {
      const before = await inner.markUsed(hash, at)
      if (raceOnce && before !== null) {
        raceOnce = false
        await inner.deleteFamily(before.familyId)
      }
      return before
    },
  }
  const server = await startServer(t, { refreshTokens: racing })
  const tokens = await login(server)
  raceOnce = true
  const result = await refresh(server, tokens.refresh_token)
  t.same(result.json, { error: 'invalid_grant', error_description: 'invalid refresh token' })
  t.equal(inner.size, 0, 'the pair issued meanwhile was deleted with the family')
  await stillServes(t, server)
})

t.test('a refresh token that another request spent first counts as reuse', async (t) => {
  const inner = new MemoryRefreshTokenStore()
  let spendFirst = false
  const racing: RefreshTokenStore = {
    find: (hash) => inner.find(hash),
    save: (hash, record, accessToken) => inner.save(hash, record, accessToken),
    deleteFamily: (familyId) => inner.deleteFamily(familyId),
    async markUsed (hash, at) {
      if (spendFirst) {
        spendFirst = false
        await inner.markUsed(hash, at - 1)
      }
      return await inner.markUsed(hash, at)
    },
  }
  const server = await startServer(t, { refreshTokens: racing })
  const tokens = await login(server)
  const { socket } = await opened(server.wsUrl, bearer(tokens.access_token))
  await nextMessage(socket)
  const socketClosed = closed(socket)
  spendFirst = true
  t.equal((await refresh(server, tokens.refresh_token)).json.error, 'invalid_grant')
  t.same(await socketClosed, { code: 4401, reason: 'token revoked' })
  t.equal(inner.size, 0)
})

t.test('concurrent refreshes with one token: one wins, the family ends', async (t) => {
  const server = await startServer(t)
  const tokens = await login(server)
  const results = await Promise.all(Array.from({ length: 5 }, () => refresh(server, tokens.refresh_token)))
  const winners = results.filter((result) => result.status === 200)
  t.ok(winners.length <= 1, 'at most one new pair')
  t.ok(results.filter((result) => result.json.error === 'invalid_grant').length >= 4)
  for (const winner of winners) {
    t.equal((await refresh(server, winner.json.refresh_token)).json.error, 'invalid_grant', 'the winner\'s family is ended by the losers\' reuse')
  }
  await stillServes(t, server)
})

t.test('a refresh token whose family ends between lookup and use', async (t) => {
  const inner = new MemoryRefreshTokenStore()
  let revokeFirst = false
  const racing: RefreshTokenStore = {
    find: (hash) => inner.find(hash),
    save: (hash, record, accessToken) => inner.save(hash, record, accessToken),
    deleteFamily: (familyId) => inner.deleteFamily(familyId),
    async markUsed (hash, at) {
      if (revokeFirst) {
        revokeFirst = false
        const record = await inner.find(hash)
        await inner.deleteFamily(record!.familyId)
      }
      return await inner.markUsed(hash, at)
    },
  }
  const server = await startServer(t, { refreshTokens: racing })
  const tokens = await login(server)
  revokeFirst = true
  t.same((await refresh(server, tokens.refresh_token)).json, { error: 'invalid_grant', error_description: 'invalid refresh token' })
  t.equal(inner.size, 0, 'nothing was issued')
  await stillServes(t, server)
})
