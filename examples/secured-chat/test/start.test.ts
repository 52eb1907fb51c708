// The main job as a person runs it: `pnpm start` at the root of the repository (build, then the chat on one node, in
// memory), the page in Chromium, sign in, send a message, see it.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { launchChromium } from '../../../test/helpers/browser.ts'
import { freePort } from '../../../test/helpers/port.ts'
import { ChatPage } from './page.ts'

const root = fileURLToPath(new URL('../../..', import.meta.url))

t.test('pnpm start: the chat on one node, used from a browser', async (t) => {
  const port = await freePort()
  const child = spawn('pnpm', ['start'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const closed = once(child, 'close')
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGINT')
    await closed
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += String(chunk)
      if (output.includes(`secured-chat listening on http://127.0.0.1:${port} (one node, in memory)`)) resolve()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    closed.then(() => reject(new Error(`pnpm start ended:\n${output}`)))
  })

  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const chat = await ChatPage.open(await chromium.browser.newContext(), `http://127.0.0.1:${port}/`)
  await chat.signIn('johndoe', 'secret')
  await chat.seesOnline(['johndoe (you)'])
  await chat.say('Hello from pnpm start')
  await chat.sees('Hello from pnpm start')
  t.equal(await chat.page.locator('#room-title').innerText(), '# general')
  t.strictSame(await chat.connectionStates(), ['connecting', 'authenticating', 'open'])

  // Its log: a line for the connect and one for the disconnect, with subject, transport and close code; never a token.
  const refreshToken = await chat.refreshToken()
  await chat.page.getByRole('button', { name: 'Sign out' }).click()
  await chat.backAtSignIn()
  await new Promise<void>((resolve) => {
    const check = (): void => { if (output.includes('"msg":"chat disconnected"')) resolve() }
    child.stdout.on('data', check)
    check()
  })
  const lines = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>)
  t.match(lines.filter((line) => line.msg === 'chat connected'), [{ subject: 'johndoe', transport: 'subprotocol' }])
  t.match(lines.filter((line) => line.msg === 'chat disconnected'), [{ subject: 'johndoe', transport: 'subprotocol', code: 1000 }])
  t.notOk(output.includes(refreshToken), 'no refresh token in the output')
  t.notMatch(output, /eyJ[\w-]+\.[\w-]+\./, 'no JWT in the output')
})
