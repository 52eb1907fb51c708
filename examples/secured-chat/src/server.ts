import { randomBytes } from 'node:crypto'
import { buildApp } from './app.js'
import { ConfigError, configFromEnv, redisLabel } from './config.js'

let config
try {
  config = configFromEnv(process.env, () => randomBytes(32).toString('base64url'))
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(`secured-chat: ${error.message}`)
  process.exit(2)
}

let app
try {
  app = await buildApp(config)
} catch (error) {
  if (config.redisUrl === null) throw error
  // Redis is the one thing outside this process the chat needs; say so in one line, not a stack.
  console.error(`secured-chat: cannot reach Redis at ${redisLabel(config.redisUrl)} (${(error as Error).message})`)
  process.exit(1)
}
const address = await app.listen({ host: config.host, port: config.port })
// Printed whatever LOG_LEVEL is, for people and for scripts that wait for the server.
console.log(`secured-chat listening on ${address}${config.redisUrl === null ? ' (one node, in memory)' : ` (Redis ${redisLabel(config.redisUrl)})`}`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1))
  })
}
