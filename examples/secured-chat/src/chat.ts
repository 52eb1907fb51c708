import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import type { WebSocket, RawData } from 'ws'
import { WsAuthError, closeAnswer, type Identity } from '@wsauth/core'
import type { ChatHub, ChatMessage, HubEvent, Presence } from './hub/hub.js'
import { frame, parseClientMessage, type ClientMessage, type ErrorCode, type ProtocolError } from './protocol.js'
import type { RateLimiter } from './rate-limit.js'
import { isRoom, mayEnter, roomsFor, type RoomName } from './rooms.js'

/** A socket's place in a room. Until the join's history is sent, messages for the room wait in `pending`. */
interface Seat {
  pending: ChatMessage[] | null
  /** A presence that came while joining, newer than what the join read. */
  heldPresence: Presence | null
  /** The version of the last presence sent to this socket for this room. */
  presenceVersion: number
}

/** One chat socket. Its identity is the guard's, which an in-band refresh replaces. */
class ChatSession {
  readonly socket: WebSocket
  readonly request: FastifyRequest
  readonly seats = new Map<RoomName, Seat>()
  /** Messages refused in a row by the rate limit. */
  refused = 0
  /** The rooms the user may enter as last sent (a bit per room), to send the list again only when that changed. */
  allowedRooms = -1

  constructor (socket: WebSocket, request: FastifyRequest) {
    this.socket = socket
    this.request = request
  }

  get identity (): Identity {
    return this.request.identity!
  }

  send (data: string | Buffer): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(data, { binary: false })
  }

  error (code: ErrorCode, message: string, room?: string): void {
    this.send(frame(room === undefined ? { type: 'error', code, message } : { type: 'error', code, message, room }))
  }
}

/** The sockets of one room on this node, and how many of each subject's sockets are there. */
interface LocalRoom {
  sessions: Set<ChatSession>
  present: Map<string, number>
}

export interface ChatOptions {
  hub: ChatHub
  limiter: RateLimiter
  /** Messages refused by the rate limit in a row after which the socket is closed with 4429. */
  floodLimit: number
  log: FastifyBaseLogger
}

/**
 * The chat on this node: its sockets, the rooms they sit in, and the hub events passed on to them. Every message from
 * a client is rate limited, parsed against the protocol's schemas and answered; nothing a client sends closes its
 * socket, except a flood (4429).
 */
export class Chat {
  readonly #hub: ChatHub
  readonly #limiter: RateLimiter
  readonly #floodLimit: number
  readonly #log: FastifyBaseLogger
  readonly #rooms = new Map<RoomName, LocalRoom>()
  readonly #bySubject = new Map<string, Set<ChatSession>>()

  constructor (options: ChatOptions) {
    this.#hub = options.hub
    this.#limiter = options.limiter
    this.#floodLimit = options.floodLimit
    this.#log = options.log
  }

  /** Sockets on this node. */
  get size (): number {
    let size = 0
    for (const sessions of this.#bySubject.values()) size += sessions.size
    return size
  }

  /** Takes an authenticated socket into the chat: it gets the room list, then speaks the protocol. */
  open (socket: WebSocket, request: FastifyRequest): void {
    const session = new ChatSession(socket, request)
    const { subject, transport } = session.identity
    let sessions = this.#bySubject.get(subject)
    if (sessions === undefined) this.#bySubject.set(subject, sessions = new Set())
    sessions.add(session)
    request.log.info({ subject, transport }, 'chat connected')
    socket.on('message', (data, isBinary) => this.#receive(session, data, isBinary))
    socket.on('close', (code) => {
      request.log.info({ subject, transport: session.identity.transport, code }, 'chat disconnected')
      this.#closed(session)
    })
    this.#sendRooms(session)
  }

  /** A hub event, from any node: passed on to the sockets of its room here. */
  deliver (event: HubEvent): void {
    const room = event.kind === 'say' ? event.message.room : event.room
    const local = isRoom(room) ? this.#rooms.get(room) : undefined
    if (local === undefined) return
    if (event.kind === 'say') {
      // One encoding for every socket of the room.
      const data = Buffer.from(frame({ type: 'say', ...event.message }))
      for (const session of local.sessions) {
        const seat = session.seats.get(room as RoomName)!
        if (seat.pending === null) session.send(data)
        else seat.pending.push(event.message)
      }
      return
    }
    const presence: Presence = { online: event.online, version: event.version }
    const data = Buffer.from(frame({ type: 'presence', room: room as RoomName, online: event.online }))
    for (const session of local.sessions) {
      const seat = session.seats.get(room as RoomName)!
      if (seat.pending !== null) {
        if (seat.heldPresence === null || seat.heldPresence.version < presence.version) seat.heldPresence = presence
      } else if (seat.presenceVersion < presence.version) {
        seat.presenceVersion = presence.version
        session.send(data)
      }
    }
  }

  /**
   * A subject's credential was refreshed on one of their sockets: take each of their sockets here out of the rooms
   * their scopes no longer allow, and send them the room list when it changed.
   */
  recheck (subject: string): void {
    for (const session of this.#bySubject.get(subject) ?? []) {
      const { scopes } = session.identity
      for (const room of [...session.seats.keys()]) {
        if (!mayEnter(scopes, room)) this.#leave(session, room, 'forbidden')
      }
      this.#sendRooms(session)
    }
  }

  #sendRooms (session: ChatSession): void {
    const { subject, scopes } = session.identity
    const rooms = roomsFor(scopes)
    const allowed = rooms.reduce((bits, room, index) => room.allowed ? bits | (1 << index) : bits, 0)
    if (allowed === session.allowedRooms) return
    session.allowedRooms = allowed
    session.send(frame({ type: 'rooms', subject, rooms }))
  }

  #receive (session: ChatSession, data: RawData, isBinary: boolean): void {
    if (!this.#limiter.take(session.identity.subject)) {
      if (++session.refused > this.#floodLimit) {
        const { code, reason } = closeAnswer(new WsAuthError('rate_limited', 'chat flood', { retryAfter: 1 }))
        session.socket.close(code, reason)
      } else {
        session.error('rate_limited', 'too many messages; slow down')
      }
      return
    }
    session.refused = 0
    let message: ClientMessage
    try {
      message = parseClientMessage(data, isBinary)
    } catch (error) {
      const { code, message: text } = error as ProtocolError
      session.error(code, text)
      return
    }
    this.#handle(session, message).catch((error: unknown) => {
      session.request.log.error({ err: error }, 'chat hub failed')
      session.error('unavailable', 'the chat is unavailable; try again', message.room)
    })
  }

  async #handle (session: ChatSession, message: ClientMessage): Promise<void> {
    const { room } = message
    if (!isRoom(room)) {
      session.error('unknown_room', 'no such room', room)
      return
    }
    if (message.type === 'join') {
      await this.#join(session, room)
      return
    }
    const seat = session.seats.get(room)
    if (seat === undefined) {
      session.error('not_joined', 'join the room first', room)
    } else if (message.type === 'leave') {
      this.#leave(session, room)
    } else if (message.type === 'history') {
      session.send(frame({ type: 'history', room, messages: await this.#hub.history(room) }))
    } else {
      // Every node delivers it, this one to the sender too: their copy is the confirmation.
      await this.#hub.post(room, session.identity.subject, message.text)
    }
  }

  async #join (session: ChatSession, room: RoomName): Promise<void> {
    if (!mayEnter(session.identity.scopes, room)) {
      session.error('forbidden', 'your access does not include this room', room)
      return
    }
    if (session.seats.has(room)) {
      session.send(frame({ type: 'history', room, messages: await this.#hub.history(room) }))
      return
    }
    const seat: Seat = { pending: [], heldPresence: null, presenceVersion: 0 }
    session.seats.set(room, seat)
    let local = this.#rooms.get(room)
    if (local === undefined) this.#rooms.set(room, local = { sessions: new Set(), present: new Map() })
    local.sessions.add(session)
    let presence: Presence
    let history: ChatMessage[]
    try {
      presence = await this.#present(local, room, session.identity.subject)
      history = await this.#hub.history(room)
    } catch (error) {
      if (session.seats.get(room) === seat) this.#leave(session, room, undefined, false)
      throw error
    }
    // Left, closed or taken out while the hub answered.
    if (session.seats.get(room) !== seat) return
    const pending = seat.pending!
    seat.pending = null
    session.send(frame({ type: 'history', room, messages: history }))
    const lastId = history.at(-1)?.id ?? 0
    for (const message of pending) {
      if (message.id > lastId) session.send(frame({ type: 'say', ...message }))
    }
    const latest = seat.heldPresence !== null && seat.heldPresence.version > presence.version ? seat.heldPresence : presence
    seat.heldPresence = null
    seat.presenceVersion = latest.version
    session.send(frame({ type: 'presence', room, online: latest.online }))
  }

  /** Counts one more socket of `subject` in the room here; the first one marks them present in the hub. */
  #present (local: LocalRoom, room: RoomName, subject: string): Promise<Presence> {
    const count = local.present.get(subject) ?? 0
    local.present.set(subject, count + 1)
    return count === 0 ? this.#hub.enter(room, subject) : this.#hub.presence(room)
  }

  #leave (session: ChatSession, room: RoomName, reason?: 'forbidden', acknowledge = true): void {
    if (!session.seats.delete(room)) return
    const local = this.#rooms.get(room)!
    local.sessions.delete(session)
    const subject = session.identity.subject
    const count = local.present.get(subject)! - 1
    if (count > 0) {
      local.present.set(subject, count)
    } else {
      local.present.delete(subject)
      this.#hub.leave(room, subject).catch((error: unknown) => this.#log.error({ err: error }, 'chat hub failed'))
    }
    if (acknowledge) session.send(frame(reason === undefined ? { type: 'leave', room } : { type: 'leave', room, reason }))
  }

  #closed (session: ChatSession): void {
    for (const room of [...session.seats.keys()]) this.#leave(session, room, undefined, false)
    const sessions = this.#bySubject.get(session.identity.subject)!
    sessions.delete(session)
    if (sessions.size === 0) this.#bySubject.delete(session.identity.subject)
  }
}
