import type { WebSocket } from 'ws'
import { OUTCOMES, closeAnswer, type Clock, type Identity, type Outcome, type WsAuthError } from '@wsauth/core'
import { publishClosed } from './events.js'

/**
 * Expiry granularity. One timer sweeps buckets of this width, so tracking costs a Set insert per socket instead of a
 * timer each, and a socket is closed at most two ticks (one second) after its token's `exp`.
 */
export const EXPIRY_TICK_MS = 500

/** A tracked socket, as `track` returns it: the handle to renew its credential or close it. */
export interface Connection {
  readonly socket: WebSocket
  identity: Identity
  tracked: boolean
  /** Authenticated by a username and password (no token id: only its subject reaches it). */
  password: boolean
  bucket: number | null
  /** How long before expiry `onExpiring` is called, in ms; 0 for never. */
  readonly noticeMs: number
  noticeBucket: number | null
  /** The credential `onExpiring` was last called for (see `credentialKey`), so that it is called once per credential. */
  noticed: string | null
}

export interface TrackOptions {
  /** How long before expiry `onExpiring` is called, in ms; 0 (default) for never. */
  noticeMs?: number
  /** The socket was authenticated by a username and password. */
  password?: boolean
}

export interface ConnectionsOptions {
  now?: Clock
  /**
   * Called once per credential before a socket's token expires: `noticeMs` before, but never more than half the
   * credential's remaining life before (a token that lives less than the notice window is not told at once), give or
   * take a tick.
   */
  onExpiring?: (socket: WebSocket, identity: Identity) => void
}

// A credential is told of its expiry once. Its token id names it; without one, its expiry is the best name there is.
function credentialKey (identity: Identity): string {
  return identity.tokenId !== null ? `id:${identity.tokenId}` : `exp:${identity.expiresAt}`
}

// An index entry holds the connection itself until a second one shares its key: most token ids, and many subjects and
// expiry buckets, have one socket, and a Set each would be most of what tracking costs in memory.
type Entry = Connection | Set<Connection>
type Index<K> = Map<K, Entry>

function addTo<K> (index: Index<K>, key: K, connection: Connection): void {
  const entry = index.get(key)
  if (entry === undefined) index.set(key, connection)
  else if (entry instanceof Set) entry.add(connection)
  else index.set(key, new Set([entry, connection]))
}

function removeFrom<K> (index: Index<K>, key: K, connection: Connection): void {
  const entry = index.get(key)
  if (entry === connection) {
    index.delete(key)
  } else if (entry instanceof Set && entry.delete(connection) && entry.size === 1) {
    index.set(key, entry.values().next().value!)
  }
}

function countOf (entry: Entry | undefined): number {
  return entry === undefined ? 0 : entry instanceof Set ? entry.size : 1
}

function listOf (entry: Entry | undefined): Connection[] {
  return entry === undefined ? [] : entry instanceof Set ? [...entry] : [entry]
}

/** Live authenticated sockets on this node, indexed by subject and token id, each closed when its token expires. */
export class Connections {
  readonly #bySubject: Index<string> = new Map()
  readonly #byTokenId: Index<string> = new Map()
  readonly #passwordsBySubject: Index<string> = new Map()
  readonly #byBucket: Index<number> = new Map()
  readonly #byNoticeBucket: Index<number> = new Map()
  readonly #now: Clock
  readonly #onExpiring: ((socket: WebSocket, identity: Identity) => void) | undefined
  #size = 0
  #revocations = 0
  #sweeper: NodeJS.Timeout | null = null
  #sweptBucket = 0

  constructor (options: ConnectionsOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#onExpiring = options.onExpiring
  }

  /** Live authenticated sockets on this node. */
  get size (): number {
    return this.#size
  }

  /**
   * How many times `closeSubject`, `closeTokenId` or `closePasswords` ran. A credential verified while this changed
   * may have been revoked after its check and before its socket was tracked, where the revocation could not reach it:
   * compare the count taken before verifying with the one after tracking, and check again when they differ.
   */
  get revocations (): number {
    return this.#revocations
  }

  /** Tracks an authenticated socket until it closes; `noticeMs > 0` asks for `onExpiring` before expiry. */
  track (socket: WebSocket, identity: Identity, options: TrackOptions = {}): Connection {
    const connection: Connection = {
      socket,
      identity,
      tracked: true,
      password: options.password === true,
      bucket: null,
      noticeMs: options.noticeMs ?? 0,
      noticeBucket: null,
      noticed: null,
    }
    this.#size++
    addTo(this.#bySubject, identity.subject, connection)
    if (identity.tokenId !== null) addTo(this.#byTokenId, identity.tokenId, connection)
    if (connection.password) addTo(this.#passwordsBySubject, identity.subject, connection)
    // 'close' fires once; `on` spares the wrapper `once` allocates per socket.
    socket.on('close', () => this.#untrack(connection))
    this.#schedule(connection)
    return connection
  }

  /**
   * Moves a tracked socket to a refreshed credential (a token) of the same subject: new token id, new expiry. Returns
   * `false` when the socket is no longer tracked, or when its current token expired before the refresh completed (then
   * the socket is closed as expired: a refresh extends a live credential, it does not revive a dead one).
   */
  renew (connection: Connection, identity: Identity): boolean {
    if (!connection.tracked) return false
    const current = connection.identity
    if (current.expiresAt !== null && current.expiresAt <= this.#now()) {
      this.#close(connection, 'expired')
      return false
    }
    if (current.tokenId !== null) removeFrom(this.#byTokenId, current.tokenId, connection)
    if (connection.password) removeFrom(this.#passwordsBySubject, current.subject, connection)
    this.#unschedule(connection)
    connection.identity = identity
    connection.password = false
    if (identity.tokenId !== null) addTo(this.#byTokenId, identity.tokenId, connection)
    this.#schedule(connection)
    return true
  }

  /** Untracks a socket and closes it with the table's code for `error`. */
  reject (connection: Connection, error: WsAuthError): void {
    if (!connection.tracked) return
    this.#untrack(connection)
    const { code, reason } = closeAnswer(error)
    connection.socket.close(code, reason)
  }

  /** Closes every socket of a subject; returns how many. */
  closeSubject (subject: string, outcome: Outcome): number {
    this.#revocations++
    return this.#closeAll(this.#bySubject.get(subject), outcome)
  }

  /** Closes every socket authenticated with a token id; returns how many. */
  closeTokenId (tokenId: string, outcome: Outcome): number {
    this.#revocations++
    return this.#closeAll(this.#byTokenId.get(tokenId), outcome)
  }

  /** Closes every socket a subject opened with a username and password; returns how many. */
  closePasswords (subject: string, outcome: Outcome): number {
    this.#revocations++
    return this.#closeAll(this.#passwordsBySubject.get(subject), outcome)
  }

  countSubject (subject: string): number {
    return countOf(this.#bySubject.get(subject))
  }

  #closeAll (entry: Entry | undefined, outcome: Outcome): number {
    const connections = listOf(entry)
    for (const connection of connections) this.#close(connection, outcome)
    return connections.length
  }

  #close (connection: Connection, outcome: Outcome): void {
    this.#untrack(connection)
    const { closeCode, reason } = OUTCOMES[outcome]
    connection.socket.close(closeCode, reason)
    publishClosed(connection.identity, outcome)
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
    const told = connection.noticed === credentialKey(connection.identity)
    if (connection.noticeMs > 0 && this.#onExpiring !== undefined && !told) {
      // The notice rides the same sweep, at most half the remaining life before expiry: a token that lives less than
      // the notice window is told halfway, not at once (and not again right after every refresh). One already due
      // goes out on the next tick, after the app's handler has run (its welcome first), and never into a bucket the
      // sweep has passed.
      const lead = Math.min(connection.noticeMs, (expiresAt - now) / 2)
      const due = Math.ceil((expiresAt - lead) / EXPIRY_TICK_MS)
      connection.noticeBucket = Math.max(due, Math.floor(now / EXPIRY_TICK_MS) + 1)
      addTo(this.#byNoticeBucket, connection.noticeBucket, connection)
    }
  }

  #unschedule (connection: Connection): void {
    if (connection.bucket !== null) removeFrom(this.#byBucket, connection.bucket, connection)
    if (connection.noticeBucket !== null) removeFrom(this.#byNoticeBucket, connection.noticeBucket, connection)
    connection.bucket = null
    connection.noticeBucket = null
  }

  #sweep (): void {
    const current = Math.floor(this.#now() / EXPIRY_TICK_MS)
    for (let bucket = this.#sweptBucket + 1; bucket <= current; bucket++) {
      const notices = this.#byNoticeBucket.get(bucket)
      if (notices !== undefined) {
        this.#byNoticeBucket.delete(bucket)
        for (const connection of listOf(notices)) {
          connection.noticeBucket = null
          connection.noticed = credentialKey(connection.identity)
          this.#onExpiring!(connection.socket, connection.identity)
        }
      }
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
    if (!connection.tracked) return
    connection.tracked = false
    this.#size--
    removeFrom(this.#bySubject, connection.identity.subject, connection)
    if (connection.identity.tokenId !== null) removeFrom(this.#byTokenId, connection.identity.tokenId, connection)
    if (connection.password) removeFrom(this.#passwordsBySubject, connection.identity.subject, connection)
    this.#unschedule(connection)
  }
}
