import type { Clock } from '@wsauth/core'

/** A chat message as every node stores and delivers it. `id` grows by one per message in its room. */
export interface ChatMessage {
  id: number
  room: string
  from: string
  text: string
  /** Epoch milliseconds, by the clock of the node that took the message. */
  at: number
}

/** What the hub delivers to every node, the one that caused it included. */
export type HubEvent =
  | { kind: 'say', message: ChatMessage }
  | ({ kind: 'presence', room: string } & Presence)

/** Who is present in a room, on any node (sorted, without repeats), as of `version`. */
export interface Presence {
  online: string[]
  /** Grows with every change of the room's presence: of two answers, the higher is the newer. */
  version: number
}

/**
 * The state the nodes of one chat share, and the fan-out between them: each room's recent history, who is present
 * where, and the events that every node passes on to its own sockets. `MemoryHub` is one process; `RedisHub` is many.
 *
 * Presence is kept per node: a node marks a subject present in a room while it has a socket of theirs in that room,
 * and renews its marks on every `heartbeat`. Marks not renewed within `presenceTtlMs` (a node that crashed) are
 * dropped by the next heartbeat of any node, and the room's new presence goes out then.
 */
export interface ChatHub {
  /** Starts delivering events to `deliver`, and the heartbeat timer when `heartbeatMs` is not 0. */
  start (deliver: (event: HubEvent) => void): Promise<void>
  /** Stores a message (keeping the last `historyLimit` of its room) and sends it to every node. */
  post (room: string, from: string, text: string): Promise<ChatMessage>
  /** The room's last `historyLimit` messages, oldest first. */
  history (room: string): Promise<ChatMessage[]>
  /** Marks `subject` present in `room` on this node; resolves the room's presence now. */
  enter (room: string, subject: string): Promise<Presence>
  /** Takes back this node's mark of `subject` in `room`. */
  leave (room: string, subject: string): Promise<void>
  /** The room's presence now. */
  presence (room: string): Promise<Presence>
  /** Renews this node's presence marks and drops the marks other nodes stopped renewing. */
  heartbeat (): Promise<void>
  /** Stops the heartbeat and delivery, and takes back this node's marks. */
  close (): Promise<void>
}

export interface HubOptions {
  /** Messages kept per room. Default 50. */
  historyLimit?: number
  /** How often this node renews its presence marks, in ms; 0: only when `heartbeat()` is called. Default 5000. */
  heartbeatMs?: number
  /** How long a presence mark lives without renewal, in ms. Default 15000: three missed heartbeats. */
  presenceTtlMs?: number
  /** Time for message stamps and presence expiry. Default `Date.now`. */
  clock?: Clock
}

export const DEFAULT_HISTORY_LIMIT = 50
export const DEFAULT_HEARTBEAT_MS = 5000
export const DEFAULT_PRESENCE_TTL_MS = 15_000

export interface HubSettings {
  historyLimit: number
  heartbeatMs: number
  presenceTtlMs: number
  clock: Clock
}

export function hubSettings (options: HubOptions): HubSettings {
  const settings = {
    historyLimit: options.historyLimit ?? DEFAULT_HISTORY_LIMIT,
    heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    presenceTtlMs: options.presenceTtlMs ?? DEFAULT_PRESENCE_TTL_MS,
    clock: options.clock ?? Date.now,
  }
  for (const name of ['historyLimit', 'heartbeatMs', 'presenceTtlMs'] as const) {
    if (!Number.isSafeInteger(settings[name]) || settings[name] < (name === 'heartbeatMs' ? 0 : 1)) {
      throw new TypeError(`hub option "${name}" must be an integer >= ${name === 'heartbeatMs' ? 0 : 1}`)
    }
  }
  if (settings.heartbeatMs >= settings.presenceTtlMs) throw new TypeError('hub option "heartbeatMs" must be below "presenceTtlMs"')
  return settings
}

/**
 * Presence marks are `<node id> <subject>`: one per node and subject, so a subject on two nodes stays online until
 * both have let go. Node ids have no spaces; subjects may.
 */
export function presenceMark (nodeId: string, subject: string): string {
  return `${nodeId} ${subject}`
}

/** The subjects behind a room's presence marks, sorted and without repeats. */
export function onlineOf (marks: Iterable<string>): string[] {
  const subjects = new Set<string>()
  for (const mark of marks) subjects.add(mark.slice(mark.indexOf(' ') + 1))
  return [...subjects].sort()
}
