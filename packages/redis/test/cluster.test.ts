// The stores on a local Redis Cluster of three masters, through ioredis `Cluster` connections: every script touches
// one key, so any slot serves it; pub/sub reaches every node of the cluster.
import t from 'tap'
import { Cluster } from 'ioredis'
import { FAIL_FAST } from '@wsauth/redis'
import { startRedisCluster } from '../../../test/helpers/redis-cluster.ts'
import { bearer, stillServes } from '../../../test/helpers/app.ts'
import { closed, nextMessage, opened, refused } from '../../../test/helpers/ws.ts'
import { login, postForm, startNode } from './fixture.ts'

const servers = await startRedisCluster(t)

function cluster (): Cluster {
  const connection = new Cluster(servers.map((server) => ({ host: '127.0.0.1', port: server.port })), {
    enableOfflineQueue: false,
    redisOptions: FAIL_FAST,
  })
  t.teardown(() => { connection.disconnect() })
  return connection
}

t.test('two nodes on a 3-master cluster: refresh, revoke across nodes, one-winner takes', async (t) => {
  const connections = [cluster(), cluster()]
  await Promise.all(connections.map((connection) => new Promise((resolve) => connection.once('ready', resolve))))
  const a = await startNode(t, connections[0]!, { prefix: 'cluster:' })
  const b = await startNode(t, connections[1]!, { prefix: 'cluster:' })

  const first = (await login(a)).body
  const rotated = await postForm(`${b.base}/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token as string })
  t.equal(rotated.status, 200, 'a family made on A rotates on B')
  const access = rotated.body.access_token as string
  const { socket } = await opened(b.url(), bearer(access))
  t.equal(await nextMessage(socket), 'Welcome alice!')
  const socketClosed = closed(socket)
  t.equal((await postForm(`${a.base}/revoke`, { token: rotated.body.refresh_token as string })).status, 200)
  t.strictSame(await socketClosed, { code: 4401, reason: 'token revoked' }, 'revoked on A, closed on B')
  t.equal((await refused(b.url(), bearer(access))).status, 401)

  const tickets = [a.stores.singleUse<string>('tickets'), b.stores.singleUse<string>('tickets')]
  await tickets[0]!.put('t1', 'alice', Date.now() + 60_000)
  const taken = await Promise.all(Array.from({ length: 100 }, (_, i) => tickets[i % 2]!.take('t1')))
  t.equal(taken.filter((value) => value !== null).length, 1)
  await stillServes(t, a)
  await stillServes(t, b)
})
