// `pnpm --dir examples/secured-chat start:cluster` as a person runs it: two node processes on Redis, or, without a
// reachable Redis, one line that says so and a non-zero exit.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { opened } from '../../../test/helpers/index.ts'
import { freePort } from '../../../test/helpers/port.ts'
import { startRedis } from '../../../test/helpers/redis.ts'
import { join, next, send } from './fixture.ts'

const exampleDir = fileURLToPath(new URL('..', import.meta.url))

interface Cluster {
  output (): string
  /** Resolves once the output holds every one of `lines`; rejects if the cluster ends first. */
  printed (lines: string[]): Promise<void>
  /** pnpm's exit code, once it and every process it started have ended. */
  exited: Promise<number | null>
  /** Ctrl-C. */
  stop (): void
}

/** Runs `pnpm start:cluster` in its own process group (pnpm, a shell, the cluster and its nodes), so all can be stopped. */
function startCluster (env: Record<string, string>): Cluster {
  const child = spawn('pnpm', ['--dir', exampleDir, 'start:cluster'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  const waiting = new Set<() => void>()
  const onData = (chunk: Buffer): void => {
    output += String(chunk)
    for (const check of waiting) check()
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  // 'close' comes once every process holding the output pipes (the nodes too) has exited.
  const exited = once(child, 'close').then(([code]) => code as number | null)
  return {
    output: () => output,
    printed: (lines) => new Promise((resolve, reject) => {
      const check = (): void => {
        if (!lines.every((line) => output.includes(line))) return
        waiting.delete(check)
        resolve()
      }
      waiting.add(check)
      check()
      exited.then(() => reject(new Error(`the cluster exited:\n${output}`)))
    }),
    exited,
    // As Ctrl-C in a terminal: SIGINT to the whole foreground group.
    stop: () => { if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGINT') },
  }
}

t.test('no reachable Redis: one line, a non-zero exit', async (t) => {
  const port = await freePort()
  const cluster = startCluster({ REDIS_URL: `redis://127.0.0.1:${port}` })
  t.not(await cluster.exited, 0)
  const lines = cluster.output().split('\n').filter((line) => line.startsWith('secured-chat'))
  t.strictSame(lines, [`secured-chat: cannot reach Redis at redis://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`])
  t.notMatch(cluster.output(), /^\s+at /m, 'no stack')
})

t.test('two nodes sharing one chat', async (t) => {
  const redis = await startRedis(t)
  const ports = [await freePort(), await freePort()]
  const cluster = startCluster({ REDIS_URL: redis.url, PORTS: ports.join(',') })
  t.teardown(cluster.stop)
  await cluster.printed(ports.map((port) => `secured-chat listening on http://127.0.0.1:${port}`))

  const signIn = async (port: number, username: string, password: string): Promise<string> => {
    const response = await fetch(`http://127.0.0.1:${port}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', username, password }) })
    return (await response.json() as { access_token: string }).access_token
  }
  // A token from the first node is good on the second: one JWT key for the cluster.
  const johnToken = await signIn(ports[0]!, 'johndoe', 'secret')
  const { socket: john } = await opened(`ws://127.0.0.1:${ports[1]}/chat`, { headers: { authorization: `Bearer ${johnToken}` } })
  const { socket: jane } = await opened(`ws://127.0.0.1:${ports[0]}/chat`, { headers: { authorization: `Bearer ${await signIn(ports[0]!, 'janedoe', 'secret2')}` } })
  await next(john)
  await next(jane)
  await join(john, 'general')
  await join(jane, 'general')
  send(jane, { type: 'say', room: 'general', text: 'across the cluster' })
  for (;;) {
    const message = await next(john)
    if (message.type === 'say') {
      t.match(message, { from: 'janedoe', text: 'across the cluster' })
      break
    }
  }
  john.close()
  jane.close()
  cluster.stop()
  await cluster.exited
  for (const port of ports) {
    await t.rejects(fetch(`http://127.0.0.1:${port}/`), `Ctrl-C stopped the node on ${port}`)
  }
})
