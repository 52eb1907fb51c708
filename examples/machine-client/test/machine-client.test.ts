import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startSecuredEcho } from '../../../test/helpers/secured-echo.ts'

t.test('machine-client talks to secured-echo over Bearer and Basic', async (t) => {
  const server = await startSecuredEcho({ LOG_LEVEL: 'warn' })
  t.teardown(() => server.stop())
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, BASE_URL: server.baseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += String(chunk) })
  const [code] = await once(child, 'exit')
  t.equal(code, 0)
  t.strictSame(stdout.trim().split('\n'), [
    'Authorization: Bearer: Welcome johndoe! / You wrote: hello from a machine',
    'Authorization: Basic token:<access_token>: Welcome johndoe! / You wrote: hello from a machine',
    'Authorization: Basic username:password: Welcome johndoe! / You wrote: hello from a machine',
  ])
})

t.test('machine-client fails loudly on a wrong password', async (t) => {
  const server = await startSecuredEcho({ LOG_LEVEL: 'warn' })
  t.teardown(() => server.stop())
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, BASE_URL: server.baseUrl, WSAUTH_PASSWORD: 'wrong' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk) })
  const [code] = await once(child, 'exit')
  t.equal(code, 1)
  t.equal(stderr.trim(), 'machine-client: login failed: 400 invalid_grant')
})
