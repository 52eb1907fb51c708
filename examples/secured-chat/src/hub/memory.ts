import { randomUUID } from 'node:crypto'
import { Heartbeat } from './heartbeat.js'
import {
  hubSettings, onlineOf, presenceMark, type ChatHub, type ChatMessage, type HubEvent, type HubOptions, type HubSettings, type Presence,
} from './hub.js'

interface RoomState {
  history: ChatMessage[]
  lastId: number
  /** Presence mark → epoch ms it lapses at. */
  marks: Map<string, number>
  presenceVersion: number
}

/** What the nodes of one process share: one per chat, handed to every `MemoryHub` of it. */
export class MemoryChatState {
  readonly rooms = new Map<string, RoomState>()
  readonly listeners = new Set<(event: HubEvent) => void>()

  room (name: string): RoomState {
    let room = this.rooms.get(name)
    if (room === undefined) {
      room = { history: [], lastId: 0, marks: new Map(), presenceVersion: 0 }
      this.rooms.set(name, room)
    }
    return room
  }

  publish (event: HubEvent): void {
    for (const listener of this.listeners) listener(event)
  }
}

export interface MemoryHubOptions extends HubOptions {
  /** Shared by the hubs that should act as one chat; default a state of this hub's own (one node). */
  state?: MemoryChatState
}

/** The hub of a chat in one process: no Redis, no network. Several hubs on one `state` behave like nodes. */
export class MemoryHub implements ChatHub {
  readonly #state: MemoryChatState
  readonly #settings: HubSettings
  readonly #nodeId = randomUUID()
  /** This node's marks: room → subjects, renewed on every heartbeat. */
  readonly #own = new Map<string, Set<string>>()
  readonly #heartbeat = new Heartbeat()
  #deliver: ((event: HubEvent) => void) | null = null

  constructor (options: MemoryHubOptions = {}) {
    this.#state = options.state ?? new MemoryChatState()
    this.#settings = hubSettings(options)
  }

  async start (deliver: (event: HubEvent) => void): Promise<void> {
    this.#deliver = deliver
    this.#state.listeners.add(deliver)
    this.#heartbeat.start(this.#settings.heartbeatMs, () => this.heartbeat(), () => {})
  }

  async post (room: string, from: string, text: string): Promise<ChatMessage> {
    const state = this.#state.room(room)
    const message: ChatMessage = { id: ++state.lastId, room, from, text, at: this.#settings.clock() }
    state.history.push(message)
    if (state.history.length > this.#settings.historyLimit) state.history.shift()
    this.#state.publish({ kind: 'say', message })
    return message
  }

  async history (room: string): Promise<ChatMessage[]> {
    return [...this.#state.rooms.get(room)?.history ?? []]
  }

  async enter (room: string, subject: string): Promise<Presence> {
    let subjects = this.#own.get(room)
    if (subjects === undefined) this.#own.set(room, subjects = new Set())
    subjects.add(subject)
    return this.#mark(room, [subject], [])
  }

  async leave (room: string, subject: string): Promise<void> {
    this.#own.get(room)?.delete(subject)
    this.#mark(room, [], [subject])
  }

  async presence (room: string): Promise<Presence> {
    return this.#mark(room, [], [])
  }

  async heartbeat (): Promise<void> {
    for (const room of this.#state.rooms.keys()) this.#mark(room, [...this.#own.get(room) ?? []], [])
  }

  async close (): Promise<void> {
    this.#heartbeat.stop()
    if (this.#deliver !== null) this.#state.listeners.delete(this.#deliver)
    for (const [room, subjects] of this.#own) this.#mark(room, [], [...subjects])
    this.#own.clear()
  }

  /** Adds and removes this node's marks, drops lapsed ones, and publishes the room's presence when it changed. */
  #mark (room: string, entering: string[], leaving: string[]): Presence {
    const state = this.#state.room(room)
    const { marks } = state
    const now = this.#settings.clock()
    let changed = false
    for (const subject of entering) {
      const mark = presenceMark(this.#nodeId, subject)
      if (!marks.has(mark)) changed = true
      marks.set(mark, now + this.#settings.presenceTtlMs)
    }
    for (const subject of leaving) changed = marks.delete(presenceMark(this.#nodeId, subject)) || changed
    for (const [mark, lapsesAt] of marks) {
      if (lapsesAt <= now) changed = marks.delete(mark) || changed
    }
    const presence = { online: onlineOf(marks.keys()), version: changed ? ++state.presenceVersion : state.presenceVersion }
    if (changed) this.#state.publish({ kind: 'presence', room, ...presence })
    return presence
  }
}
