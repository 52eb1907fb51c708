// `start:cluster`: the chat on two nodes (or as many as PORTS lists), one process each, sharing rooms, presence and
// history through the Redis at REDIS_URL, and one JWT key so that a token from one node is good on every node.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { ConfigError, clusterPorts, redisLabel } from './config.js'

function fail (message: string, code: number): never {
  console.error(`secured-chat: ${message}`)
  process.exit(code)
}

const redisUrl = process.env.REDIS_URL
if (redisUrl === undefined || redisUrl === '') fail('start:cluster needs REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379', 2)

let ports: number[]
try {
  ports = clusterPorts(process.env)
} catch (error) {
  if (error instanceof ConfigError) fail(error.message, 2)
  throw error
}

// One look before starting anything: without Redis there is no cluster, and one line says why.
const probe = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
let refusal: Error | null = null
probe.on('error', (error: Error) => { refusal = error })
try {
  await probe.connect()
  await probe.ping()
  probe.disconnect()
} catch (error) {
  fail(`cannot reach Redis at ${redisLabel(redisUrl)} (${(refusal ?? error as Error).message})`, 1)
}

const jwtSecret = process.env.JWT_SECRET ?? randomBytes(32).toString('base64url')
const nodes: ChildProcess[] = ports.map((port) => spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
  cwd: new URL('..', import.meta.url),
  env: { ...process.env, PORT: String(port), REDIS_URL: redisUrl, JWT_SECRET: jwtSecret },
  stdio: 'inherit',
}))

let stopping = false
async function stop (code: number): Promise<never> {
  stopping = true
  await Promise.all(nodes.map(async (node) => {
    if (node.exitCode !== null || node.signalCode !== null) return
    node.kill('SIGTERM')
    await once(node, 'exit')
  }))
  process.exit(code)
}

for (const node of nodes) {
  node.once('exit', (code) => {
    if (stopping) return
    console.error(`secured-chat: a node exited (${code ?? 'killed'}); stopping the others`)
    stop(1)
  })
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { stop(0) })
