import type { Test } from 'tap'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { WsAuthStores } from '@wsauth/core'
import firstMessage from '@wsauth/first-message'
import passwordBearer, { MemoryUserStore } from '@wsauth/password-bearer'
import ticket from '@wsauth/ticket'
import { wsAuthRedis, type RedisConnection, type RedisStores, type WsAuthRedisOptions } from '@wsauth/redis'
import { build, type Fixture } from '../../../test/helpers/app.ts'
import type { RedisServer } from '../../../test/helpers/redis.ts'

function parseURL (url: string): RedisOptions {
  const { hostname, port } = new URL(url)
  return { host: hostname, port: Number(port) }
}

/** One node's stores on `server`, with connections of their own, ready (subscribed, mirror loaded); closed in teardown. */
export async function nodeStores (t: Test, server: RedisServer, options: WsAuthRedisOptions = {}): Promise<RedisStores> {
  const stores = wsAuthRedis(server.url, options)
  t.teardown(() => stores.close())
  await stores.ready()
  return stores
}

/** A plain client for a test to look at or act on the server; closed in teardown. */
export async function adminClient (t: Test, server: RedisServer): Promise<Redis> {
  const admin = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await admin.connect()
  t.teardown(() => { admin.disconnect() })
  return admin
}

/** A route that takes its credential from the first message (@wsauth/first-message). */
export const FIRST_MESSAGE_PATH = '/first-message'

export const ALICE = { username: 'alice', password: 'correct horse battery staple' }
/** Cheap scrypt parameters for tests. */
const FAST_SCRYPT = { N: 1024, r: 8, p: 1 }

export interface Node extends Fixture {
  stores: RedisStores
  /** `http://127.0.0.1:<port>`. */
  base: string
}

/**
 * One node of a service: its own stores on `server` (own connections; or on a connection the test made, closed by
 * the test), the generic test app (test/helpers/app.ts) with the guard on those stores, @wsauth/password-bearer
 * (alice), @wsauth/first-message and @wsauth/ticket, on a port of its own; `guardStores` puts something between the
 * guard and the stores, for a test that makes one fail.
 */
export async function startNode (
  t: Test, server: RedisServer | RedisConnection,
  options: { prefix: string, redis?: RedisOptions, guardStores?: (stores: RedisStores) => WsAuthStores }
): Promise<Node> {
  const connection = server instanceof Redis || server instanceof Cluster ? server : { ...parseURL(server.url), ...options.redis }
  const stores = wsAuthRedis(connection, { prefix: options.prefix })
  t.teardown(() => stores.close())
  await stores.ready()
  const users = new MemoryUserStore({ scrypt: FAST_SCRYPT })
  await users.add(ALICE.username, ALICE.password)
  const fixture = await build(t, {
    guard: { stores: options.guardStores?.(stores) ?? stores },
    plugins: async (app) => {
      await app.register(passwordBearer, { users, scrypt: FAST_SCRYPT })
      await app.register(firstMessage)
      await app.register(ticket)
    },
    routes: (app) => {
      app.get(FIRST_MESSAGE_PATH, { websocket: true, config: { wsAuth: { firstMessage: true } } }, (socket, request) => {
        socket.send(`Welcome ${request.identity!.subject}!`)
      })
    },
  })
  return Object.assign(fixture, { stores, base: `http://127.0.0.1:${fixture.port}` })
}

export interface Answer { status: number, headers: Headers, body: Record<string, unknown> }

export async function postForm (url: string, fields: Record<string, string>): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(fields) })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
}

/** Alice's password login on `node`: her access and refresh tokens. */
export async function login (node: Node, password = ALICE.password): Promise<Answer> {
  return await postForm(`${node.base}/token`, { grant_type: 'password', username: ALICE.username, password })
}

/** A ticket minted at `node`'s `POST /ws-ticket` for `accessToken`. */
export async function mintTicket (node: Node, accessToken: string): Promise<string> {
  const response = await fetch(`${node.base}/ws-ticket`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } })
  if (response.status !== 200) throw new Error(`POST /ws-ticket answered ${response.status}`)
  return (await response.json() as { ticket: string }).ticket
}
