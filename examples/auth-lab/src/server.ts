import { randomBytes } from 'node:crypto'
import { configFromEnv, pageOrigins, type Config } from './config.js'
import { startLab, type RunningLab } from './lab.js'

function fail (message: string): never {
  console.error(`auth-lab: ${message}`)
  process.exit(1)
}

let config: Config
try {
  config = configFromEnv(process.env, () => randomBytes(32).toString('base64url'))
} catch (error) {
  fail((error as Error).message)
}

let lab: RunningLab
try {
  lab = await startLab(config)
} catch (error) {
  // One line for the mistake a person makes most: another server on one of the seven ports.
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    fail(`a port from ${config.portBase} to ${config.portBase + 6} is in use (${(error as Error).message}); set LAB_PORT_BASE to move them all`)
  }
  throw error
}
// Printed whatever LOG_LEVEL is, for people and for scripts that wait for the server: one write, so a script that
// sees the first line has the second.
console.log(`auth-lab listening on ${lab.pageAddress}\n` +
  `open ${pageOrigins(config).sameSite}/ (the apps are on ports ${config.portBase + 1} to ${config.portBase + 6})`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    lab.close().then(() => process.exit(0), () => process.exit(1))
  })
}
