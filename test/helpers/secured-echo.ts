import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const serverDir = fileURLToPath(new URL('../../examples/secured-echo/', import.meta.url))

export interface RunningServer {
  baseUrl: string
  wsUrl: string
  port: number
  /** Everything the process wrote so far (stdout and stderr). */
  output (): string
  stop (): Promise<void>
}

/**
 * Starts examples/secured-echo exactly as `pnpm start` does (its start script), on a free port, and resolves once it
 * prints its `listening` line.
 */
export async function startSecuredEcho (env: Record<string, string> = {}): Promise<RunningServer> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: serverDir,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += String(chunk)
      const match = /secured-echo listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match !== null) resolve(Number(match[1]))
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`secured-echo exited with ${code} before listening:\n${output}`)))
  })
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    output: () => output,
    async stop () {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}
