import { randomBytes } from 'node:crypto'
import { buildApp } from './app.js'
import { configFromEnv } from './config.js'

const config = configFromEnv(process.env, () => randomBytes(32).toString('base64url'))
const app = await buildApp(config)
const address = await app.listen({ host: config.host, port: config.port })
// Printed whatever LOG_LEVEL is, for people and for scripts that wait for the server.
console.log(`secured-echo listening on ${address}${config.redisUrl === null ? ' (in memory)' : ' (stores on Redis)'}`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}
