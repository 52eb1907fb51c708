import { randomBytes } from 'node:crypto'
import { configFromEnv, pageOrigins } from './config.js'
import { startLab } from './lab.js'

const config = configFromEnv(process.env, () => randomBytes(32).toString('base64url'))
const lab = await startLab(config)
// Printed whatever LOG_LEVEL is, for people and for scripts that wait for the server.
console.log(`auth-lab listening on ${lab.pageAddress}`)
console.log(`open ${pageOrigins(config).sameSite}/ (the apps are on ports ${config.portBase + 1} to ${config.portBase + 6})`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    lab.close().then(() => process.exit(0), () => process.exit(1))
  })
}
