import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Teardown } from './app.ts'
import { freePort } from './port.ts'

/** Debian's redis-server, as .ci/run installs it. */
export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? 'redis-server'

export interface RedisServer {
  port: number
  /** `redis://127.0.0.1:<port>`. */
  url: string
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop (): Promise<void>
}

/**
 * A real redis-server of the test's own on 127.0.0.1 and a free port (or `port`: to start one again where a stopped
 * one was), keeping nothing on disk, stopped in teardown. Resolves once it accepts connections.
 */
export async function startRedis (t: Teardown, options: { port?: number, args?: string[] } = {}): Promise<RedisServer> {
  const port = options.port ?? await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...options.args ?? []]
  const child = spawn(REDIS_SERVER, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += String(chunk)
      if (output.includes('Ready to accept connections')) resolve()
    })
    child.stderr.on('data', (chunk: Buffer) => { output += String(chunk) })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)))
  })
  // A test process that ends without its teardowns (an uncaught error, process.exit) takes its server with it.
  const kill = (): void => { child.kill('SIGKILL') }
  process.once('exit', kill)
  const stop = async (): Promise<void> => {
    process.off('exit', kill)
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
  t.teardown(stop)
  return { port, url: `redis://127.0.0.1:${port}`, stop }
}
