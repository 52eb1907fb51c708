import type { WebSocket } from 'ws'
import { OUTCOMES, type Identity, type Outcome } from '@wsauth/core'

// setTimeout's longest delay; later expiries are re-armed in steps.
const MAX_TIMER_MS = 2 ** 31 - 1

interface Connection {
  socket: WebSocket
  identity: Identity
  timer: NodeJS.Timeout | null
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
  readonly #now: () => number
  #size = 0

  constructor (now: () => number = Date.now) {
    this.#now = now
  }

  /** Live authenticated sockets on this node. */
  get size (): number {
    return this.#size
  }

  track (socket: WebSocket, identity: Identity): void {
    const connection: Connection = { socket, identity, timer: null }
    this.#size++
    addTo(this.#bySubject, identity.subject, connection)
    if (identity.tokenId !== null) addTo(this.#byTokenId, identity.tokenId, connection)
    this.#arm(connection)
    socket.once('close', () => this.#untrack(connection))
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

  #arm (connection: Connection): void {
    const expiresAt = connection.identity.expiresAt
    if (expiresAt === null) return
    const delay = expiresAt - this.#now()
    if (delay <= 0) {
      this.#close(connection, 'expired')
      return
    }
    connection.timer = setTimeout(() => {
      connection.timer = null
      if (delay > MAX_TIMER_MS) this.#arm(connection)
      else this.#close(connection, 'expired')
    }, Math.min(delay, MAX_TIMER_MS))
    connection.timer.unref()
  }

  #untrack (connection: Connection): void {
    if (!this.#bySubject.get(connection.identity.subject)?.has(connection)) return
    this.#size--
    if (connection.timer !== null) clearTimeout(connection.timer)
    connection.timer = null
    removeFrom(this.#bySubject, connection.identity.subject, connection)
    if (connection.identity.tokenId !== null) removeFrom(this.#byTokenId, connection.identity.tokenId, connection)
  }
}
