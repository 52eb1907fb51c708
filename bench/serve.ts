// The server side of a handshake benchmark (see harness.ts): the echo route every variant serves, and the process
// protocol with the parent ('cpu' answers this process's CPU time, 'gc' collects garbage, 'exit' stops it).
import type { FastifyInstance } from 'fastify'

export function echoRoute (app: FastifyInstance): void {
  app.get('/ws', { websocket: true }, (socket, request) => {
    socket.send(`Welcome ${request.identity?.subject ?? 'anonymous'}!`)
    socket.on('message', (data) => socket.send(`You wrote: ${String(data)}`))
  })
}

export async function serveBenchmark (app: FastifyInstance): Promise<void> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  process.send!({ port: typeof address === 'object' && address !== null ? address.port : 0 })
  process.on('message', (message) => {
    if (message === 'cpu') {
      const usage = process.cpuUsage()
      process.send!({ cpu: usage.user + usage.system })
    } else if (message === 'gc') {
      // Collects what came before a measured run (minting its tickets, say), so that it is not the run's to pay for.
      (globalThis as { gc?: () => void }).gc?.()
      process.send!({ gc: true })
    } else if (message === 'exit') {
      app.close().then(() => process.exit(0), () => process.exit(1))
    }
  })
}
