import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePort } from '../../../test/helpers/port.ts'
import { startSecuredEcho } from '../../../test/helpers/secured-echo.ts'
import { converseWithClient } from '../src/client.ts'

/** Runs `pnpm start` with `env`: its exit code, stdout and stderr. */
async function run (env: Record<string, string>): Promise<{ code: number, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += String(chunk) })
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk) })
  const [code] = await once(child, 'exit') as [number]
  return { code, stdout: stdout.trim(), stderr: stderr.trim() }
}

t.test('machine-client talks to secured-echo through @wsauth/client (Bearer), and over Basic', async (t) => {
  const server = await startSecuredEcho({ LOG_LEVEL: 'warn' })
  t.teardown(() => server.stop())
  const { code, stdout } = await run({ BASE_URL: server.baseUrl })
  t.equal(code, 0)
  t.strictSame(stdout.split('\n'), [
    '@wsauth/client (bearer): Welcome johndoe! / You wrote: hello from a machine',
    'Authorization: Basic token:<access_token>: Welcome johndoe! / You wrote: hello from a machine',
    'Authorization: Basic username:password: Welcome johndoe! / You wrote: hello from a machine',
  ])
})

t.test('machine-client fails loudly on a wrong password', async (t) => {
  const server = await startSecuredEcho({ LOG_LEVEL: 'warn' })
  t.teardown(() => server.stop())
  const { code, stderr } = await run({ BASE_URL: server.baseUrl, WSAUTH_PASSWORD: 'wrong' })
  t.equal(code, 1)
  t.equal(stderr, 'machine-client: login failed: 400 invalid_grant')
})

t.test('nothing listens at BASE_URL: one line naming the URL, exit 1', async (t) => {
  const baseUrl = `http://127.0.0.1:${await freePort()}`
  const { code, stderr } = await run({ BASE_URL: baseUrl })
  t.equal(code, 1)
  t.equal(stderr, `machine-client: cannot reach ${baseUrl}/token (ECONNREFUSED)`)
})

t.test('the client cannot reach the socket\'s server: it gives up after its attempts, naming the URL', async (t) => {
  const baseUrl = `http://127.0.0.1:${await freePort()}`
  await t.rejects(converseWithClient(baseUrl, { accessToken: 'a', refreshToken: 'r' }, 'hi'),
    { message: `${baseUrl}/.well-known/wsauth: fetch failed (ECONNREFUSED)` })
})
