import t, { type Test } from 'tap'
import { SignJWT, decodeJwt, importJWK } from 'jose'
import { signingKey } from '../../../examples/dev-idp/src/idp.ts'
import { send, startIdp, type RunningIdp, type TokenResponseTamper } from '../../../test/helpers/oidc.ts'
import { callback, startApp, stillServes, toCallback, type Answer, type App } from './fixture.ts'

async function refusedWith (t: Test, answered: Answer, status: number, error: string): Promise<void> {
  t.equal(answered.status, status, `${error}: ${status}`)
  t.equal(answered.json?.error, error)
  t.type(answered.json?.error_description, 'string')
  t.equal(answered.headers.get('cache-control'), 'no-store')
}

/** An ID token with these claims instead of the provider's, signed with `key` (the provider's RS256 key by default). */
function forgedIdToken (idp: RunningIdp, change: Record<string, unknown>, key = idp.keys[0]!): TokenResponseTamper {
  return async (body) => {
    const claims = { ...decodeJwt(body.id_token as string), ...change }
    const signed = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid! }).sign(await importJWK(key, 'RS256'))
    return { ...body, id_token: signed }
  }
}

/** A sign-in whose token endpoint answer is rewritten by `change`: the provider (or someone in its place) misbehaving. */
async function signInWith (app: App, idp: RunningIdp, change: TokenResponseTamper): Promise<Answer> {
  idp.tamper = change
  const { jar, url } = await toCallback(app)
  return await callback(jar, url)
}

function unsigned (claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none' })}.${part(claims)}.`
}

t.test('a state that is not this browser\'s is refused, 400', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const { jar, url } = await toCallback(app)
  const forged = new URL(url)
  forged.searchParams.set('state', `${app.clock.now.toString(36)}.AAAAAAAAAAAAAAAAAAAAAA`)
  await refusedWith(t, await callback(jar, forged), 400, 'state_mismatch')

  const other = await toCallback(app)
  other.jar.set(app.base, 'wsauth-oidc-state', undefined)
  await refusedWith(t, await callback(other.jar, other.url), 400, 'state_mismatch')
  await stillServes(t, app)
})

t.test('a nonce that is not this sign-in\'s is refused, 400', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const { jar, url } = await toCallback(app)
  jar.set(app.base, 'wsauth-oidc-nonce', 'another-sign-ins-nonce')
  await refusedWith(t, await callback(jar, url), 400, 'nonce_mismatch')
  const lost = await toCallback(app)
  lost.jar.set(app.base, 'wsauth-oidc-nonce', undefined)
  await refusedWith(t, await callback(lost.jar, lost.url), 400, 'nonce_mismatch')
  await stillServes(t, app)
})

t.test('consent denied at the provider is a 403 page', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const { jar, url } = await toCallback(app, { consent: 'deny' })
  t.equal(url.searchParams.get('error'), 'access_denied')
  await refusedWith(t, await callback(jar, url), 403, 'access_denied')

  const page = await toCallback(app, { consent: 'deny' })
  const html = await send(page.jar, page.url, { headers: { accept: 'text/html' } })
  t.equal(html.status, 403)
  const text = await html.text()
  t.match(text, /<title>Sign-in cancelled<\/title>/)
  t.match(text, /<a href="\/login\/oidc">Start again<\/a><a href="\/">Back<\/a>/)
  t.equal(html.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
  await stillServes(t, app)
})

t.test('another error from the provider is a 400; one with a forged state is a state mismatch', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const { jar, url } = await toCallback(app)
  const refused = new URL(`${url.pathname}?error=login_required&state=${url.searchParams.get('state')}`, url)
  await refusedWith(t, await callback(jar, refused), 400, 'provider_refused')
  const forged = await toCallback(app)
  await refusedWith(t, await callback(forged.jar, new URL(`${url.pathname}?error=access_denied&state=x`, url)), 400, 'state_mismatch')
  await stillServes(t, app)
})

t.test('an answer without a code is a 400', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const { jar, url } = await toCallback(app)
  await refusedWith(t, await callback(jar, new URL(`${url.pathname}?state=${url.searchParams.get('state')}`, url)), 400, 'invalid_request')
  await stillServes(t, app)
})

t.test('a sign-in older than loginTtlSeconds (injected clock) is refused, 400', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const { jar, url } = await toCallback(app)
  app.clock.advance(600_000)
  await refusedWith(t, await callback(jar, url), 400, 'login_expired')
  await stillServes(t, app)
})

t.test('a replayed callback is refused, 400: without the cookies, and with a copy of them', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const { jar, url } = await toCallback(app)
  const cookies = jar.copy(app.base)
  t.equal((await callback(jar, url)).status, 200, 'the first answer signs in')
  await refusedWith(t, await callback(jar, url), 400, 'state_mismatch')
  jar.restore(app.base, cookies)
  await refusedWith(t, await callback(jar, url), 400, 'code_rejected')
  await stillServes(t, app)
})

t.test('a user resolveUser does not know is refused, 403', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer, { resolveUser: () => null })
  const { jar, url } = await toCallback(app)
  await refusedWith(t, await callback(jar, url), 403, 'unknown_user')
  await stillServes(t, app)
})

t.test('an ID token the client must not accept is a 401', async (t) => {
  const idp = await startIdp(t)
  const app = await startApp(t, idp.issuer)
  const cases: Array<[string, TokenResponseTamper]> = [
    ['for another audience', forgedIdToken(idp, { aud: 'another-client' })],
    ['for several audiences, not authorised for this client (azp)', forgedIdToken(idp, { aud: ['test-app', 'another-client'] })],
    ['from another issuer', forgedIdToken(idp, { iss: 'http://127.0.0.1:1' })],
    ['expired', forgedIdToken(idp, { exp: Math.floor(app.clock.now / 1000) - 1 })],
    ['with alg none', (body) => ({ ...body, id_token: unsigned(decodeJwt(body.id_token as string)) })],
    ['signed by a key not in the JWKS', forgedIdToken(idp, {}, signingKey('RS256'))],
    ['signed with an algorithm not allowed', async (body) => {
      const key = signingKey('RS256')
      const claims = decodeJwt(body.id_token as string)
      return { ...body, id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS384', kid: idp.keys[0]!.kid! }).sign(await importJWK(key, 'RS384')) }
    }],
  ]
  for (const [name, idToken] of cases) {
    await t.test(name, async (t) => refusedWith(t, await signInWith(app, idp, idToken), 401, 'invalid_id_token'))
  }
  const authorised = await signInWith(app, idp, forgedIdToken(idp, { aud: ['test-app', 'another-client'], azp: 'test-app' }))
  t.equal(authorised.status, 200, 'several audiences with azp naming this client are fine')
  idp.tamper = null
  await stillServes(t, app)
})
