import type { Cluster, Redis } from 'ioredis'

/** A connection to Redis: one server, or a cluster (every script below touches one key, so any slot serves it). */
export type RedisConnection = Redis | Cluster

/**
 * The Lua scripts, each atomic on its one key: what two nodes racing on a key could otherwise both win. ioredis
 * sends each by its SHA once loaded (EVALSHA, and EVAL on NOSCRIPT), so a script costs one round trip.
 */
const SCRIPTS = {
  // KEYS[1] the denylist (a sorted set: token id → expiry); ARGV: token id, expiry (epoch ms), channel, message.
  // Adds the entry, drops expired ones, keeps the key until its last entry expires, and tells every node's mirror.
  // Expired on Redis's clock, the one every node shares: on the writer's, a node whose clock ran ahead would drop
  // entries that are live for every other node.
  wsauthDeny: {
    numberOfKeys: 1,
    lua: `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local time = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2]))) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`,
  },
  // KEYS[1] the denylist, for its slot only; ARGV: channel, message. Publishes where the denylist lives: on a cluster,
  // messages published on one node reach each subscriber in order, so a node never hears "close this token's sockets"
  // before the denylist entry that makes it refuse the token's next handshake.
  wsauthPublish: {
    numberOfKeys: 1,
    lua: `
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`,
  },
  // KEYS[1] a failure count; ARGV: limit, window (ms). Milliseconds to wait when blocked (nothing counted), else counts
  // one attempt and answers 0. The window starts at the first attempt and the key expires with it.
  wsauthAttempt: {
    numberOfKeys: 1,
    lua: `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then return ttl end
  return 1
end
if count == 0 then redis.call('SET', KEYS[1], 1, 'PX', ARGV[2]) else redis.call('INCR', KEYS[1]) end
return 0`,
  },
  // KEYS[1] a failure count; ARGV: window (ms). Counts one failure.
  wsauthFail: {
    numberOfKeys: 1,
    lua: `
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1`,
  },
  // KEYS[1] a failure count. Takes one counted attempt back; the window keeps its expiry.
  wsauthForgive: {
    numberOfKeys: 1,
    lua: `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1`,
  },
  // KEYS[1] a family (a hash); ARGV: expected hash, new hash, new expiry (epoch ms), new access tokens (JSON).
  // Compare-and-swap of the current refresh token: 1 when swapped, 0 when the family is gone or another token is current.
  wsauthRotate: {
    numberOfKeys: 1,
    lua: `
if redis.call('HGET', KEYS[1], 'tokenHash') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'tokenHash', ARGV[2], 'expiresAt', ARGV[3], 'accessTokens', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1`,
  },
  // KEYS[1] a family. Removes it and answers its fields as they were (empty when unknown): one deleter gets them.
  wsauthTakeFamily: {
    numberOfKeys: 1,
    lua: `
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return fields`,
  },
} as const

type ScriptName = keyof typeof SCRIPTS

/** A connection with the scripts defined on it. */
export type ScriptedConnection = RedisConnection & {
  [Name in ScriptName]: (key: string, ...args: Array<string | number>) => Promise<unknown>
}

/** Defines the scripts on a connection (once; defining them again is harmless). */
export function withScripts (connection: RedisConnection): ScriptedConnection {
  for (const [name, script] of Object.entries(SCRIPTS)) {
    if (typeof (connection as unknown as Record<string, unknown>)[name] !== 'function') connection.defineCommand(name, script)
  }
  return connection as ScriptedConnection
}
