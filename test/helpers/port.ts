import { once } from 'node:events'
import { createServer } from 'node:net'

/** A port of 127.0.0.1 no one listens on right now: for a server whose Origin allowlist must name its port up front. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

// Below Linux's ephemeral range (32768 and up), where `listen(0)` and outgoing connections take their ports, so a
// range found free here is not taken by another test's server a moment later.
const RANGE_FLOOR = 10_000
const RANGE_CEILING = 32_000

async function listenOn (port: number): Promise<ReturnType<typeof createServer> | null> {
  const server = createServer()
  return await new Promise((resolve) => {
    server.once('error', () => resolve(null))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

/**
 * The first of `count` consecutive ports of 127.0.0.1 no one listens on right now: for a server that takes a base
 * port and the ones after it (examples/auth-lab's LAB_PORT_BASE). Ports are held while the range is checked.
 */
export async function freePortRange (count: number): Promise<number> {
  for (;;) {
    const base = RANGE_FLOOR + Math.floor(Math.random() * (RANGE_CEILING - RANGE_FLOOR - count))
    const held: Array<ReturnType<typeof createServer>> = []
    for (let port = base; port < base + count; port++) {
      const server = await listenOn(port)
      if (server === null) break
      held.push(server)
    }
    await Promise.all(held.map(async (server) => {
      server.close()
      await once(server, 'close')
    }))
    if (held.length === count) return base
  }
}
