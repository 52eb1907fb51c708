import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { FailureWindow, SingleUseStore, WsAuthStores } from '@wsauth/core'
import { RedisRevocationBus } from './bus.js'
import { RedisDenyList } from './deny-list.js'
import { RedisFailureCounter } from './failure-counter.js'
import { Keys } from './keys.js'
import { RedisRefreshTokenStore } from './refresh-tokens.js'
import { withScripts, type RedisConnection } from './scripts.js'
import { RedisSingleUseStore } from './single-use.js'
import { Subscriber } from './subscriber.js'

export interface WsAuthRedisOptions {
  /** Put before every key and the channel name, so several apps can share one Redis. Default `wsauth:`. */
  prefix?: string
  /**
   * How long a revoked token that never expires stays on the denylist, in milliseconds: every key expires, so the
   * denylist never grows for good. Default 30 days.
   */
  maxRevocationAge?: number
}

/** The stores on Redis, and what to do with their connections. */
export interface RedisStores extends WsAuthStores {
  denyList: RedisDenyList
  bus: RedisRevocationBus
  /** The connection commands go on (the one given, or one made from the options given). */
  readonly redis: RedisConnection
  /** This node's subscriber: a duplicate of `redis`. */
  readonly subscriber: RedisConnection
  /** Resolves once this node's subscriber is subscribed and its denylist mirror loaded. */
  ready (): Promise<void>
  /** Closes the subscriber, and the command connection when it was made here (not one the app passed in). */
  close (): Promise<void>
}

const DEFAULT_PREFIX = 'wsauth:'
const THIRTY_DAYS = 30 * 24 * 60 * 60 * 1000

/**
 * Options for a connection made here. A command waits for no reconnect: with Redis unreachable it fails at once, and
 * what needed it is answered 503 (1013 on a socket) rather than held until a client gives up. A command in flight
 * when the connection drops fails too, and is not sent again after the reconnect: it may have run (a ticket taken, a
 * family rotated), and running it twice would turn one request into two. ioredis reconnects by itself, and the node
 * serves again as soon as Redis is back.
 */
export const FAIL_FAST: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 2000,
  autoResendUnfulfilledCommands: false,
}

function connect (given: string | RedisOptions | RedisConnection): { redis: RedisConnection, owned: boolean } {
  if (given instanceof Redis || given instanceof Cluster) return { redis: given, owned: false }
  if (typeof given === 'string') return { redis: new Redis(given, FAIL_FAST), owned: true }
  return { redis: new Redis({ ...FAIL_FAST, ...given }), owned: true }
}

/** A second connection like `redis`, for the subscriber, which subscribes again itself after each reconnect. */
function duplicate (redis: RedisConnection): RedisConnection {
  if (redis instanceof Cluster) return redis.duplicate(undefined, { redisOptions: { ...redis.options.redisOptions, autoResubscribe: false } })
  return redis.duplicate({ autoResubscribe: false })
}

/**
 * Every wsauth store and the revocation bus on Redis, for the guard's `stores` option: one line makes a node one of
 * many. Takes a URL, ioredis options, or a connection (`Redis` or `Cluster`) the app made; the subscriber is a
 * duplicate of it.
 */
export function wsAuthRedis (connection: string | RedisOptions | RedisConnection, options: WsAuthRedisOptions = {}): RedisStores {
  const prefix = options.prefix ?? DEFAULT_PREFIX
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string')
  const maxRevocationAge = options.maxRevocationAge ?? THIRTY_DAYS
  if (!(maxRevocationAge > 0) || !Number.isFinite(maxRevocationAge)) throw new TypeError('maxRevocationAge must be a finite number > 0')
  const { redis, owned } = connect(connection)
  const scripted = withScripts(redis)
  const keys = new Keys(prefix)
  const denyList = new RedisDenyList(scripted, keys, maxRevocationAge)
  const bus = new RedisRevocationBus(scripted, keys)
  // Commands on a subscribed connection are refused: the subscriber is a connection of its own.
  const subscriberConnection = duplicate(redis)
  const subscriber = new Subscriber(subscriberConnection, keys.channel, denyList, bus)
  if (owned) redis.on('error', () => {})
  return {
    denyList,
    refreshTokens: new RedisRefreshTokenStore(scripted, keys),
    failureCounter: (name: string, window: FailureWindow) => new RedisFailureCounter(scripted, keys, name, window),
    singleUse: <T>(namespace: string): SingleUseStore<T> => new RedisSingleUseStore<T>(redis, keys, namespace),
    bus,
    redis,
    subscriber: subscriberConnection,
    ready: async () => { await subscriber.ready() },
    close: async () => {
      await subscriber.close()
      if (owned) redis.disconnect()
    },
  }
}
