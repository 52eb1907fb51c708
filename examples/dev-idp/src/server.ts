import { createServer } from 'node:http'
import { CHAT_API, exampleClients } from './clients.js'
import { createDevIdp } from './idp.js'

const port = Number(process.env.PORT ?? 9000)
if (!Number.isSafeInteger(port) || port < 0) throw new Error(`PORT must be an integer >= 0, got ${JSON.stringify(process.env.PORT)}`)
const host = process.env.HOST ?? '127.0.0.1'

const server = createServer()
server.listen(port, host)
await new Promise((resolve) => server.once('listening', resolve))
const { port: actualPort } = server.address() as { port: number }
// The issuer is the URL browsers and apps reach the provider at; an address for every interface is not one.
const issuer = process.env.ISSUER ?? `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${actualPort}`
const { listener } = createDevIdp({ issuer, clients: exampleClients(), apis: { [CHAT_API]: { scope: 'chat' } } })
server.on('request', listener)
// Printed for people and for scripts that wait for the provider.
console.log(`dev-idp issuer ${issuer}`)
console.log(`dev-idp discovery ${issuer}/.well-known/openid-configuration`)
console.log('dev-idp user alice / wonderland (scope chat)')

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  })
}
