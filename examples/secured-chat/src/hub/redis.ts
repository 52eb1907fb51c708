import { randomUUID } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import { Heartbeat } from './heartbeat.js'
import {
  hubSettings, onlineOf, presenceMark, type ChatHub, type ChatMessage, type HubEvent, type HubOptions, type HubSettings, type Presence,
} from './hub.js'

// Stores a message under the room's next id, keeps the last ARGV[2], and publishes it, in one step: every node sees
// messages in id order, and a message is in the history before any node delivers it.
// KEYS: history, sequence. ARGV: channel, limit, the message as JSON without its id, key lifetime (s).
const POST = `
local id = redis.call('INCR', KEYS[2])
local message = '{"id":' .. id .. ',' .. string.sub(ARGV[3], 2)
redis.call('RPUSH', KEYS[1], message)
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[1], '{"kind":"say","message":' .. message .. '}')
return message
`

// Adds and removes presence marks, drops the lapsed ones, and when anything changed counts a new version of the room's
// presence and publishes it, in one step: versions grow in the order the changes happened. Returns the version and
// the marks. KEYS: the room's presence set (mark → lapses at, epoch ms), its version. ARGV: channel, room as JSON,
// now, lapses at, key lifetime (ms), how many marks to add, then the marks to add, then the marks to remove.
const MARK = `
local entering = tonumber(ARGV[6])
local changed = 0
for i = 7, 6 + entering do
  changed = changed + redis.call('ZADD', KEYS[1], ARGV[4], ARGV[i])
end
for i = 7 + entering, #ARGV do
  changed = changed + redis.call('ZREM', KEYS[1], ARGV[i])
end
changed = changed + redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local marks = redis.call('ZRANGE', KEYS[1], 0, -1)
if #marks > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
local version = tonumber(redis.call('GET', KEYS[2]) or '0')
if changed > 0 then
  version = redis.call('INCR', KEYS[2])
  local list = '[]'
  if #marks > 0 then list = cjson.encode(marks) end
  redis.call('PUBLISH', ARGV[1], '{"kind":"marks","room":' .. ARGV[2] .. ',"version":' .. version .. ',"marks":' .. list .. '}')
end
table.insert(marks, 1, tostring(version))
return marks
`

// A room's history outlives its last message by this long.
const HISTORY_LIFETIME_SECONDS = 30 * 24 * 3600

interface ScriptedRedis extends Redis {
  chatPost (history: string, sequence: string, channel: string, limit: number, body: string, lifetime: number): Promise<string>
  chatMark (presence: string, version: string, ...args: Array<string | number>): Promise<[string, ...string[]]>
}

type WireEvent = { kind: 'say', message: ChatMessage } | { kind: 'marks', room: string, version: number, marks: string[] }

export interface RedisHubOptions extends HubOptions {
  /** A `redis://` URL or ioredis options; the hub opens two connections (commands, and a subscriber). */
  redis: string | RedisOptions
  /** Prefix of every key and of the channel. Default `chat:`. */
  prefix?: string
  /** Told about a subscriber that reconnected, or a failed heartbeat. */
  onError?: (error: unknown) => void
}

/**
 * The hub of a chat on many nodes: history and presence in Redis, events on one pub/sub channel (the app's own, beside
 * wsauth's). Keys of one room share a hash tag, so a Redis Cluster works too.
 */
export class RedisHub implements ChatHub {
  readonly #settings: HubSettings
  readonly #prefix: string
  readonly #channel: string
  readonly #nodeId = randomUUID()
  readonly #redis: ScriptedRedis
  readonly #subscriber: Redis
  readonly #own = new Map<string, Set<string>>()
  readonly #heartbeat = new Heartbeat()
  readonly #onError: (error: unknown) => void
  #deliver: ((event: HubEvent) => void) | null = null
  #started = false
  /** What went wrong before the hub started, for the startup error. */
  #startupError: Error | null = null

  constructor (options: RedisHubOptions) {
    this.#settings = hubSettings(options)
    this.#prefix = options.prefix ?? 'chat:'
    this.#channel = `${this.#prefix}events`
    this.#onError = options.onError ?? (() => {})
    // No offline queue: while Redis is away a message fails at once (the user is told) instead of waiting unseen.
    // Reconnect for ever once started; at startup, a Redis that can't be reached is an error to report, not to wait out.
    const connection: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => this.#started ? Math.min(attempt * 200, 2000) : null,
    }
    this.#redis = (typeof options.redis === 'string'
      ? new Redis(options.redis, connection)
      : new Redis({ ...options.redis, ...connection })) as ScriptedRedis
    this.#redis.defineCommand('chatPost', { numberOfKeys: 2, lua: POST })
    this.#redis.defineCommand('chatMark', { numberOfKeys: 2, lua: MARK })
    // The subscriber queues its SUBSCRIBE until connected, and renews it after every reconnect.
    this.#subscriber = this.#redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
    for (const client of [this.#redis, this.#subscriber]) {
      client.on('error', (error: Error) => {
        if (this.#started) this.#onError(error)
        else this.#startupError = error
      })
    }
  }

  async start (deliver: (event: HubEvent) => void): Promise<void> {
    this.#deliver = deliver
    try {
      await this.#redis.connect()
      this.#subscriber.on('message', (_channel: string, text: string) => this.#receive(text))
      await this.#subscriber.connect()
      await this.#subscriber.subscribe(this.#channel)
    } catch (error) {
      this.#redis.disconnect()
      this.#subscriber.disconnect()
      throw this.#startupError ?? error
    }
    // Presence events published while the subscriber was away are lost: send each room this node serves afresh.
    this.#subscriber.on('ready', () => { this.#resend().catch(this.#onError) })
    this.#heartbeat.start(this.#settings.heartbeatMs, () => this.heartbeat(), this.#onError)
    this.#started = true
  }

  async post (room: string, from: string, text: string): Promise<ChatMessage> {
    const at = this.#settings.clock()
    const stored = await this.#redis.chatPost(
      this.#key(room, 'history'), this.#key(room, 'seq'), this.#channel, this.#settings.historyLimit,
      JSON.stringify({ room, from, text, at }), HISTORY_LIFETIME_SECONDS)
    return JSON.parse(stored) as ChatMessage
  }

  async history (room: string): Promise<ChatMessage[]> {
    const stored = await this.#redis.lrange(this.#key(room, 'history'), 0, -1)
    return stored.map((message) => JSON.parse(message) as ChatMessage)
  }

  async enter (room: string, subject: string): Promise<Presence> {
    let subjects = this.#own.get(room)
    if (subjects === undefined) this.#own.set(room, subjects = new Set())
    subjects.add(subject)
    return await this.#mark(room, [subject], [])
  }

  async leave (room: string, subject: string): Promise<void> {
    this.#own.get(room)?.delete(subject)
    await this.#mark(room, [], [subject])
  }

  async presence (room: string): Promise<Presence> {
    return await this.#mark(room, [], [])
  }

  async heartbeat (): Promise<void> {
    // Every node's heartbeat also drops lapsed marks in every room it serves, so a crashed node's users go offline
    // wherever anyone is still watching.
    await Promise.all([...this.#own].map(([room, subjects]) => this.#mark(room, [...subjects], [])))
  }

  async close (): Promise<void> {
    this.#heartbeat.stop()
    this.#deliver = null
    this.#started = false
    // Best effort: marks that can't be taken back now lapse on their own.
    await Promise.all([...this.#own].map(([room, subjects]) => this.#mark(room, [], [...subjects]))).catch(this.#onError)
    this.#own.clear()
    this.#subscriber.disconnect()
    this.#redis.disconnect()
  }

  #key (room: string, what: string): string {
    return `${this.#prefix}{${room}}:${what}`
  }

  async #mark (room: string, entering: string[], leaving: string[]): Promise<Presence> {
    const now = this.#settings.clock()
    const ttl = this.#settings.presenceTtlMs
    const mark = (subject: string): string => presenceMark(this.#nodeId, subject)
    const [version, ...marks] = await this.#redis.chatMark(this.#key(room, 'presence'), this.#key(room, 'presence-version'),
      this.#channel, JSON.stringify(room), now, now + ttl, ttl * 4, entering.length, ...entering.map(mark), ...leaving.map(mark))
    return { online: onlineOf(marks), version: Number(version) }
  }

  async #resend (): Promise<void> {
    for (const room of this.#own.keys()) {
      this.#deliver?.({ kind: 'presence', room, ...await this.presence(room) })
    }
  }

  #receive (text: string): void {
    if (this.#deliver === null) return
    const event = JSON.parse(text) as WireEvent
    this.#deliver(event.kind === 'say'
      ? event
      : { kind: 'presence', room: event.room, online: onlineOf(event.marks), version: event.version })
  }
}
