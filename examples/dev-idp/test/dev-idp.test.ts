import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { CookieJar, send, signInAtProvider } from '../../../test/helpers/oidc.ts'

const directory = fileURLToPath(new URL('..', import.meta.url))

/** Starts the dev provider as `pnpm start` does, on a free port; resolves its issuer once it prints its discovery URL. */
async function startDevIdp (t: Test): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: directory,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(async () => {
    if (child.exitCode !== null) return
    child.kill('SIGTERM')
    await once(child, 'exit')
  })
  let output = ''
  return await new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += String(chunk)
      const match = /dev-idp discovery (http:\/\/127\.0\.0\.1:\d+)\/\.well-known\/openid-configuration/.exec(output)
      if (match !== null) resolve(match[1]!)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`dev-idp exited with ${code}:\n${output}`)))
  })
}

t.test('`pnpm start` serves a provider that logs its discovery URL and publishes its configuration and keys', async (t) => {
  const issuer = await startDevIdp(t)
  const configuration = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as Record<string, unknown>
  t.match(configuration, {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    code_challenge_methods_supported: ['S256'],
  })
  const { keys } = await (await fetch(`${issuer}/jwks`)).json() as { keys: Array<Record<string, unknown>> }
  t.same(keys.map((key) => key.alg).sort(), ['ES256', 'EdDSA', 'RS256'])
  t.notOk(keys.some((key) => 'd' in key), 'public keys only')

  const token = await (await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('dev-machine:dev-machine-secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'urn:wsauth:chat', scope: 'chat' }),
  })).json() as { access_token: string }
  t.match(decodeJwt(token.access_token), { iss: issuer, aud: 'urn:wsauth:chat', scope: 'chat', sub: 'dev-machine' }, 'a JWT access token for the chat API')
  t.equal(decodeProtectedHeader(token.access_token).alg, 'RS256')
})

t.test('alice signs in to secured-echo\'s client, for a redirect URI on any loopback port', async (t) => {
  const issuer = await startDevIdp(t)
  for (const redirectUri of ['http://localhost:8123/login/oidc/callback', 'http://127.0.0.1:8000/login/oidc/callback']) {
    const verifier = randomBytes(32).toString('base64url')
    const authorize = new URL(`${issuer}/auth`)
    authorize.search = new URLSearchParams({
      client_id: 'secured-echo',
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: redirectUri,
      state: 'state',
      nonce: 'nonce',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString()

    const jar = new CookieJar()
    const wrong = await signInAtProvider(jar, authorize.href, '/login/oidc/callback', { password: 'not it' }).catch((error: Error) => error)
    t.match(wrong, { message: /answered 401 to login:.*Wrong username or password/s }, 'a wrong password is refused on the page')

    const back = await signInAtProvider(new CookieJar(), authorize.href, '/login/oidc/callback')
    t.equal(`${back.origin}${back.pathname}`, redirectUri, `back to ${redirectUri}`)
    const exchanged = await (await send(new CookieJar(), `${issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'secured-echo', code: back.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier }),
    })).json() as { id_token: string }
    t.match(decodeJwt(exchanged.id_token), { iss: issuer, aud: 'secured-echo', sub: 'alice', preferred_username: 'alice', nonce: 'nonce' })
  }
})
