import type { WebSocket } from 'ws'
import { OUTCOMES, type Identity, type Outcome } from '@wsauth/core'

/**
 * Expiry granularity. One timer sweeps buckets of this width, so tracking costs a Set insert per socket instead of a
 * timer each, and a socket is closed at most two ticks (one second) after its token's `exp`.
 */
export const EXPIRY_TICK_MS = 500

interface Connection {
  socket: WebSocket
  identity: Identity
  bucket: number | null
}

function addTo<K> (index: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  let set = index.get(key)
  if (set === undefined) index.set(key, (set = new Set()))
  set.add(connection)
}

function removeFrom<K> (index: Map<K, Set<Connection>>, key: K, connection: Connection): void {
  const set = index.get(key)
  if (set === undefined) return
  set.delete(connection)
  if (set.size === 0) index.delete(key)
}

/** Live authenticated sockets on this node, indexed by subject and token id, each closed when its token expires. */
export class Connections {
  readonly #bySubject = new Map<string, Set<Connection>>()
  readonly #byTokenId = new Map<string, Set<Connection>>()
  readonly #byBucket = new Map<number, Set<Connection>>()
  readonly #now: () => number
  #size = 0
  #sweeper: NodeJS.Timeout | null = null
  #sweptBucket = 0

  constructor (now: () => number = Date.now) {
    this.#now = now
  }

  /** Live authenticated sockets on this node. */
  get size (): number {
    return this.#size
  }

  track (socket: WebSocket, identity: Identity): void {
    const connection: Connection = { socket, identity, bucket: null }
    this.#size++
    addTo(this.#bySubject, identity.subject, connection)
    if (identity.tokenId !== null) addTo(this.#byTokenId, identity.tokenId, connection)
    socket.once('close', () => this.#untrack(connection))
    this.#schedule(connection)
  }

  /** Closes every socket of a subject; returns how many. */
  closeSubject (subject: string, outcome: Outcome): number {
    return this.#closeAll(this.#bySubject.get(subject), outcome)
  }

  /** Closes every socket authenticated with a token id; returns how many. */
  closeTokenId (tokenId: string, outcome: Outcome): number {
    return this.#closeAll(this.#byTokenId.get(tokenId), outcome)
  }

  countSubject (subject: string): number {
    return this.#bySubject.get(subject)?.size ?? 0
  }

  #closeAll (set: Set<Connection> | undefined, outcome: Outcome): number {
    if (set === undefined) return 0
    const connections = [...set]
    for (const connection of connections) this.#close(connection, outcome)
    return connections.length
  }

  #close (connection: Connection, outcome: Outcome): void {
    this.#untrack(connection)
    const { closeCode, reason } = OUTCOMES[outcome]
    connection.socket.close(closeCode, reason)
  }

  #schedule (connection: Connection): void {
    const expiresAt = connection.identity.expiresAt
    if (expiresAt === null) return
    const now = this.#now()
    if (expiresAt <= now) {
      this.#close(connection, 'expired')
      return
    }
    if (this.#sweeper === null) {
      this.#sweptBucket = Math.floor(now / EXPIRY_TICK_MS)
      this.#sweeper = setInterval(() => this.#sweep(), EXPIRY_TICK_MS)
      this.#sweeper.unref()
    }
    connection.bucket = Math.ceil(expiresAt / EXPIRY_TICK_MS)
    addTo(this.#byBucket, connection.bucket, connection)
  }

  #sweep (): void {
    const current = Math.floor(this.#now() / EXPIRY_TICK_MS)
    for (let bucket = this.#sweptBucket + 1; bucket <= current; bucket++) {
      const due = this.#byBucket.get(bucket)
      if (due !== undefined) this.#closeAll(due, 'expired')
    }
    this.#sweptBucket = current
    if (this.#byBucket.size === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper)
      this.#sweeper = null
    }
  }

  #untrack (connection: Connection): void {
    if (!this.#bySubject.get(connection.identity.subject)?.has(connection)) return
    this.#size--
    removeFrom(this.#bySubject, connection.identity.subject, connection)
    if (connection.identity.tokenId !== null) removeFrom(this.#byTokenId, connection.identity.tokenId, connection)
    if (connection.bucket !== null) removeFrom(this.#byBucket, connection.bucket, connection)
  }
}
