import { createHash } from 'node:crypto'
import t from 'tap'
import * as core from '@wsauth/core'
import { MemoryRefreshTokenStore, type RefreshTokenFamily, type RefreshTokenStore } from '@wsauth/password-bearer'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.js'
import { ALICE, bearer, claimsOf, login, postForm, postJson, startServer, stillServes, type Answer, type Test, type TestServer } from './fixture.js'

function refresh (server: TestServer, refreshToken: string, fields: Record<string, string> = {}): Promise<Answer> {
  return postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, ...fields })
}

/** A refresh token's family id and secret. */
function partsOf (refreshToken: string): { familyId: string, secret: string } {
  const [familyId, secret] = refreshToken.split('.') as [string, string]
  return { familyId, secret }
}

function hashOf (secret: string): string {
  return createHash('sha256').update(secret).digest('base64url')
}

function assertInvalidGrant (t: Test, result: Answer, name = 'invalid_grant'): void {
  t.equal(result.status, 400, name)
  t.same(result.json, { error: 'invalid_grant', error_description: 'invalid refresh token' }, name)
}

/** A store that lets a test play another request between this one's lookup and its rotation. */
function racingStore (inner: RefreshTokenStore, meanwhile: (familyId: string, expectedHash: string) => Promise<void>): RefreshTokenStore {
  let once = true
  return {
    create: (familyId, family) => inner.create(familyId, family),
    find: (familyId) => inner.find(familyId),
    delete: (familyId) => inner.delete(familyId),
    async rotate (familyId, expectedHash, next) {
      if (once) {
        once = false
        await meanwhile(familyId, expectedHash)
      }
      return await inner.rotate(familyId, expectedHash, next)
    },
  }
}

t.test('the memory store is @wsauth/core\'s, re-exported', async (t) => {
  t.equal(MemoryRefreshTokenStore, core.MemoryRefreshTokenStore)
})

t.test('rotation: each refresh token buys one new pair', async (t) => {
  const store = new MemoryRefreshTokenStore()
  const server = await startServer(t, { refreshTokens: store })
  const first = await login(server)
  const { familyId, secret } = partsOf(first.refresh_token)
  const stored = await store.find(familyId)
  t.match(stored, { subject: 'alice', scopes: ALICE.scopes, clientId: null, tokenHash: hashOf(secret) }, 'the secret\'s SHA-256')
  t.notMatch(JSON.stringify(stored), secret, 'never the secret itself')
  t.same(stored?.accessTokens.map(({ tokenId }) => tokenId), [claimsOf(server, first.access_token).jti], 'the access token issued with it')

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
  t.equal(partsOf(second.json.refresh_token).familyId, familyId, 'in the same family')
  const rotated = await store.find(familyId)
  t.equal(rotated?.tokenHash, hashOf(partsOf(second.json.refresh_token).secret), 'one record, now naming the new token')
  t.same(rotated?.accessTokens.map(({ tokenId }) => tokenId), [claimsOf(server, first.access_token).jti, claims.jti], 'both access tokens, oldest first')
  t.equal(store.size, 1, 'still one record')

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

  assertInvalidGrant(t, await refresh(server, first.refresh_token))
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

t.test('malformed, unknown, expired and missing refresh tokens: 400, and the token in use survives them', async (t) => {
  const store = new MemoryRefreshTokenStore()
  const server = await startServer(t, { refreshTokens: store })
  const tokens = await login(server)
  const { familyId, secret } = partsOf(tokens.refresh_token)
  const aFamilyId = 'A'.repeat(22)
  const aSecret = 'B'.repeat(43)
  const malformed = [
    'unknown', 'x'.repeat(43), secret, 'eyJhbGciOiJIUzI1NiJ9.e30.sig', `${familyId}.`, `.${secret}`, `${familyId}.${secret}x`,
    `${familyId}x.${secret}`, `${familyId}.${secret}.${secret}`, `${familyId}.${secret.slice(1)}=`, `${familyId} ${secret}`,
  ]
  for (const token of malformed) assertInvalidGrant(t, await refresh(server, token), JSON.stringify(token))
  assertInvalidGrant(t, await refresh(server, `${aFamilyId}.${aSecret}`), 'a family that does not exist')

  const expired: RefreshTokenFamily = {
    subject: 'alice', scopes: [], clientId: null, tokenHash: hashOf(aSecret), expiresAt: Date.now() - 1, accessTokens: [],
  }
  await store.create(aFamilyId, expired)
  assertInvalidGrant(t, await refresh(server, `${aFamilyId}.${aSecret}`), 'an expired family')

  const missing = await postForm(`${server.base}/token`, { grant_type: 'refresh_token' })
  t.equal(missing.status, 400)
  t.same(missing.json, { error: 'invalid_request', error_description: 'missing refresh_token' })
  const repeated = await postForm(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: [tokens.refresh_token, 'x'] })
  t.equal(repeated.status, 400)
  t.same(repeated.json, { error: 'invalid_request', error_description: 'refresh_token must be one string' })
  const typed = await postJson(`${server.base}/token`, { grant_type: 'refresh_token', refresh_token: 12345 })
  t.equal(typed.status, 400)
  t.equal(typed.json.error, 'invalid_request')
  t.equal((await refresh(server, tokens.refresh_token)).status, 200, 'the token survived every bad request')
  await stillServes(t, server)
})

t.test('a family keeps a bounded list of access tokens: one pushed out is revoked at once', async (t) => {
  const store = new MemoryRefreshTokenStore()
  const server = await startServer(t, { refreshTokens: store, accessTokensPerFamily: 2 })
  const first = await login(server)
  const { familyId } = partsOf(first.refresh_token)
  const oldest = await opened(server.wsUrl, bearer(first.access_token))
  await nextMessage(oldest.socket)
  const oldestClosed = closed(oldest.socket)
  const second = (await refresh(server, first.refresh_token)).json
  const third = (await refresh(server, second.refresh_token)).json
  t.same(await oldestClosed, { code: 4401, reason: 'token revoked' }, 'the first access token was pushed out: its socket closes')
  t.equal((await refused(server.wsUrl, bearer(first.access_token))).status, 401, 'and it is denylisted')
  const jtis = [second, third].map((pair) => claimsOf(server, pair.access_token).jti)
  t.same((await store.find(familyId))?.accessTokens.map(({ tokenId }) => tokenId), jtis, 'the family holds the two newest')

  const newer = await opened(server.wsUrl, bearer(second.access_token))
  await nextMessage(newer.socket)
  const newerClosed = closed(newer.socket)
  let current = third
  for (let i = 0; i < 20; i++) current = (await refresh(server, current.refresh_token)).json
  t.equal((await store.find(familyId))?.accessTokens.length, 2, 'whatever the number of rotations')
  t.same(await newerClosed, { code: 4401, reason: 'token revoked' })
  const newest = await opened(server.wsUrl, bearer(current.access_token))
  t.match(JSON.parse(await nextMessage(newest.socket)), { subject: 'alice' }, 'the newest still opens')
  newest.socket.terminate()
  await stillServes(t, server)
})

t.test('access tokens that have expired are dropped from a family without a denylist entry', async (t) => {
  const store = new MemoryRefreshTokenStore()
  const server = await startServer(t, { refreshTokens: store })
  const secret = 'C'.repeat(43)
  const expiredAccess = { tokenId: 'expired-jti', expiresAt: Date.now() - 1 }
  const liveAccess = { tokenId: 'live-jti', expiresAt: Date.now() + 60_000 }
  const family: RefreshTokenFamily = {
    subject: 'alice', scopes: ['chat:read'], clientId: null, tokenHash: hashOf(secret), expiresAt: Date.now() + 60_000, accessTokens: [],
  }
  await store.create('F'.repeat(22), { ...family, accessTokens: [expiredAccess, liveAccess] })
  const rotated = await refresh(server, `${'F'.repeat(22)}.${secret}`)
  t.equal(rotated.status, 200)
  t.same((await store.find('F'.repeat(22)))?.accessTokens.map(({ tokenId }) => tokenId),
    ['live-jti', claimsOf(server, rotated.json.access_token).jti], 'the expired one is gone from the family')
  t.equal(await server.app.wsAuth.denyList.has('expired-jti'), false, 'and never needed denylisting')
  t.equal((await postForm(`${server.base}/revoke`, { token: rotated.json.refresh_token })).status, 200)
  t.equal(await server.app.wsAuth.denyList.has('live-jti'), true, 'revoking the family denylists the live ones')
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

t.test('a family revoked between lookup and rotation: the refresh fails and nothing is issued', async (t) => {
  const inner = new MemoryRefreshTokenStore()
  const server = await startServer(t, {
    refreshTokens: racingStore(inner, async (familyId) => { await inner.delete(familyId) }),
  })
  const tokens = await login(server)
  assertInvalidGrant(t, await refresh(server, tokens.refresh_token))
  t.equal(inner.size, 0, 'no family came back')
  await stillServes(t, server)
})

t.test('a refresh token that another request spent between lookup and rotation counts as reuse', async (t) => {
  const inner = new MemoryRefreshTokenStore()
  const server = await startServer(t, {
    refreshTokens: racingStore(inner, async (familyId, expectedHash) => {
      const family = await inner.find(familyId)
      await inner.rotate(familyId, expectedHash, { ...family!, tokenHash: 'spent by another request' })
    }),
  })
  const tokens = await login(server)
  const { socket } = await opened(server.wsUrl, bearer(tokens.access_token))
  await nextMessage(socket)
  const socketClosed = closed(socket)
  assertInvalidGrant(t, await refresh(server, tokens.refresh_token))
  t.same(await socketClosed, { code: 4401, reason: 'token revoked' }, 'the family is ended with its sockets')
  t.equal(inner.size, 0)
  await stillServes(t, server)
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

t.test('clock: tokens are issued, and refresh tokens expire, on the clock given', async (t) => {
  let now = Date.now() + 3_600_000
  const server = await startServer(t, { clock: () => now, accessTokenTtl: 600, refreshTokenTtl: 1200 }, { guard: { clock: () => now } })
  const first = await login(server)
  const claims = claimsOf(server, first.access_token)
  t.equal(claims.iat, Math.floor(now / 1000), 'iat is the clock\'s now, an hour ahead of the real one')
  t.equal(claims.exp, Math.floor(now / 1000) + 600)
  const { socket } = await opened(server.wsUrl, bearer(first.access_token))
  t.match(JSON.parse(await nextMessage(socket)), { subject: ALICE.username }, 'the guard on the same clock takes it')
  socket.close()
  now += 1_199_000
  const second = await refresh(server, first.refresh_token)
  t.equal(second.status, 200, 'within the refresh token\'s life by the clock')
  t.equal(claimsOf(server, second.json.access_token).iat, Math.floor(now / 1000))
  now += 1_200_000
  assertInvalidGrant(t, await refresh(server, second.json.refresh_token), 'past it by the clock')
})
