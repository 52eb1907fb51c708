import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import type { Teardown } from './app.ts'
import { freePortRange } from './port.ts'
import { startRedis, type RedisServer } from './redis.ts'

/** Debian's redis-cli, beside redis-server. */
export const REDIS_CLI = process.env.REDIS_CLI_PATH ?? 'redis-cli'

/**
 * A Redis Cluster of three masters (no replicas) of the test's own, each a redis-server keeping nothing on disk (its
 * cluster config in a temporary folder), joined by `redis-cli --cluster create`. Resolves once every node reports
 * `cluster_state:ok`; stopped in teardown.
 */
export async function startRedisCluster (t: Teardown): Promise<RedisServer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'wsauth-cluster-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // Each node also listens on a cluster bus port, by default its port + 10,000: past 65,535 for a port high in the
  // ephemeral range, and in that range (taken by any outgoing connection) for the rest. Six ports below it instead.
  const base = await freePortRange(6)
  const servers: RedisServer[] = []
  for (let i = 0; i < 3; i++) {
    servers.push(await startRedis(t, {
      port: base + i,
      args: ['--cluster-enabled', 'yes', '--cluster-port', String(base + 3 + i), '--cluster-config-file', join(dir, `nodes-${i}.conf`)],
    }))
  }
  const addresses = servers.map((server) => `127.0.0.1:${server.port}`)
  await promisify(execFile)(REDIS_CLI, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'])
  for (const server of servers) {
    const client = new Redis(server.url)
    try {
      // The nodes agree through their gossip; each answers `ok` once it knows every slot's owner.
      while (!String(await client.cluster('INFO')).includes('cluster_state:ok')) await new Promise((resolve) => setImmediate(resolve))
    } finally {
      client.disconnect()
    }
  }
  return servers
}
