// What the Redis benchmarks share: a redis-server of their own (as the tests start one), and the nodes' command count.
import { once } from 'node:events'
import { startRedis, type RedisServer } from '../test/helpers/redis.ts'
import type { Server } from './harness.ts'

/** A redis-server on a free port, keeping nothing on disk; `stop` it at the end. */
export async function benchRedis (): Promise<RedisServer> {
  return await startRedis({ teardown: () => {} })
}

/** How many Redis commands a node has sent so far. */
export async function commandsSent (server: Server): Promise<number> {
  server.child.send('commands')
  for (;;) {
    const [message] = await once(server.child, 'message') as [{ commands?: number }]
    if (message.commands !== undefined) return message.commands
  }
}
