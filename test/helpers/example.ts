import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export interface RunningServer {
  baseUrl: string
  wsUrl: string
  port: number
  /** Everything the process wrote so far (stdout and stderr). */
  output (): string
  /** Stops the process (SIGTERM, or the signal given) and waits for it to exit. */
  stop (signal?: NodeJS.Signals): Promise<void>
}

/**
 * Starts `examples/<name>` as its start script does (`node --import tsx src/server.ts`), on a free port unless `env`
 * says otherwise, and resolves once it prints `<name> listening on http://127.0.0.1:<port>`.
 */
export async function startExample (name: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: fileURLToPath(new URL(`../../examples/${name}/`, import.meta.url)),
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const listening = new RegExp(`${name} listening on http://127\\.0\\.0\\.1:(\\d+)`)
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += String(chunk)
      const match = listening.exec(output)
      if (match !== null) resolve(Number(match[1]))
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before listening:\n${output}`)))
  })
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    output: () => output,
    async stop (signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      await once(child, 'exit')
    },
  }
}
