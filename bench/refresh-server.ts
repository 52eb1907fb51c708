// The refresh benchmark's server, in a process of its own (`--expose-gc`) so its CPU time and memory are its own:
// @fastify/jwt, the guard and password-bearer with its defaults (memory stores). The parent sends 'measure' (CPU
// time so far), 'memory' (heap and RSS after full GCs, denylist entries) and 'exit'.
import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import wsBearer from '@wsauth/ws-bearer'
import passwordBearer, { MemoryUserStore } from '@wsauth/password-bearer'
import { BENCH_SECRET, BENCH_USER } from './secret.ts'

export interface RefreshMemory {
  heapUsed: number
  rss: number
  /** Entries in the guard's denylist. */
  denied: number
}

// One login in the whole run: cheap hashing keeps the startup short and changes nothing per refresh.
const SCRYPT = { N: 1024, r: 8, p: 1 }

const users = new MemoryUserStore({ scrypt: SCRYPT })
await users.add(BENCH_USER.username, BENCH_USER.password, { scopes: ['chat'] })
const app = Fastify({ logger: false })
await app.register(jwt, { secret: BENCH_SECRET })
await app.register(websocket)
await app.register(wsBearer)
await app.register(passwordBearer, { users, scrypt: SCRYPT })
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.send!({ port: typeof address === 'object' && address !== null ? address.port : 0 })

const gc = (globalThis as { gc?: () => void }).gc
process.on('message', (message) => {
  if (message === 'cpu') {
    const usage = process.cpuUsage()
    process.send!({ cpu: usage.user + usage.system })
  } else if (message === 'memory') {
    // Full collections only here, between windows: the CPU windows pay for the garbage refreshes make, not for these.
    for (let i = 0; i < 3; i++) gc?.()
    const memory = process.memoryUsage()
    const denied = (app.wsAuth.denyList as unknown as { size: number }).size
    process.send!({ heapUsed: memory.heapUsed, rss: memory.rss, denied } satisfies RefreshMemory)
  } else if (message === 'exit') {
    app.close().then(() => process.exit(0), () => process.exit(1))
  }
})
