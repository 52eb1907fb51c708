import { parseRevocation } from '@wsauth/core'
import type { RedisRevocationBus } from './bus.js'
import { isDenial, type RedisDenyList } from './deny-list.js'
import type { RedisConnection } from './scripts.js'

// How long to wait before loading the denylist again after a load failed (Redis still coming back).
const RESYNC_DELAY_MS = 250

/**
 * The node's subscriber connection: it subscribes each time it connects (ioredis reconnects it by itself), hands
 * denylist entries to the mirror (and their token's sockets to the bus) and revocations to the bus, and has the mirror loaded again after every reconnect,
 * when messages may have been missed; the sockets of a token it learns of only then are closed then.
 */
export class Subscriber {
  readonly #connection: RedisConnection
  readonly #channel: string
  readonly #denyList: RedisDenyList
  readonly #bus: RedisRevocationBus
  #subscribed = false
  #retry: NodeJS.Timeout | null = null
  #closed = false
  readonly #waiting: Array<() => void> = []

  constructor (connection: RedisConnection, channel: string, denyList: RedisDenyList, bus: RedisRevocationBus) {
    this.#connection = connection
    this.#channel = channel
    this.#denyList = denyList
    this.#bus = bus
    connection.on('message', (from: string, text: string) => { if (from === channel) this.#receive(text) })
    connection.on('ready', () => { this.#subscribe() })
    connection.on('close', () => { this.#lost() })
    // Errors come back as reconnects; without a listener ioredis would print each one.
    connection.on('error', () => {})
    if (connection.status === 'ready') this.#subscribe()
  }

  /** Resolves once subscribed and the mirror is loaded. */
  async ready (): Promise<void> {
    if (this.#denyList.synced) return
    await new Promise<void>((resolve) => { this.#waiting.push(resolve) })
  }

  /** Unsubscribes and disconnects. */
  async close (): Promise<void> {
    this.#closed = true
    if (this.#retry !== null) clearTimeout(this.#retry)
    this.#connection.disconnect()
  }

  #receive (text: string): void {
    let message: unknown
    try {
      message = JSON.parse(text)
    } catch {
      return
    }
    if (isDenial(message)) {
      this.#denyList.mirror(message)
      // Its sockets close too: the entry's message goes out with the write, the revocation's after it, and may not.
      this.#bus.deliver({ kind: 'token', tokenId: message.tokenId, outcome: 'revoked' })
      return
    }
    const revocation = parseRevocation(message)
    if (revocation !== null) this.#bus.deliver(revocation)
  }

  #subscribe (): void {
    this.#connection.subscribe(this.#channel).then(() => {
      this.#subscribed = true
      this.#sync()
    }, () => {})
  }

  #lost (): void {
    this.#subscribed = false
    this.#denyList.unsync()
  }

  #sync (): void {
    if (this.#retry !== null) clearTimeout(this.#retry)
    this.#retry = null
    if (!this.#subscribed || this.#closed) return
    this.#denyList.sync().then((missed) => {
      // A revocation whose message was missed: its sockets on this node close now, as they would have then.
      for (const tokenId of missed) this.#bus.deliver({ kind: 'token', tokenId, outcome: 'revoked' })
      if (!this.#denyList.synced) return
      for (const resolve of this.#waiting.splice(0)) resolve()
    }, () => {
      this.#retry = setTimeout(() => this.#sync(), RESYNC_DELAY_MS)
      this.#retry.unref()
    })
  }
}
