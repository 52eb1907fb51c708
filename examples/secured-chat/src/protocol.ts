import Type, { type Static, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import type { RawData } from 'ws'
import type { ChatMessage } from './hub/hub.js'
import type { RoomName } from './rooms.js'

/**
 * The chat protocol: small JSON text messages with a `type`.
 * Client → server: `join`, `leave`, `say`, `history`. Server → client: `rooms` (on connect, and when the user's
 * access changes), `history` (after a join or on request), `say`, `presence`, `leave` (an acknowledgement, or the
 * server taking the user out of a room), `error` (the socket stays open).
 */

/** The largest message a client may send, in bytes; larger ones are refused with an error frame. */
export const MAX_MESSAGE_BYTES = 4096
/** The longest text of a `say`, in characters. */
export const MAX_TEXT_LENGTH = 1000

const Room = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9-]+$' })
const strict = { additionalProperties: false } as const

const SCHEMAS = {
  join: Type.Object({ type: Type.Literal('join'), room: Room }, strict),
  leave: Type.Object({ type: Type.Literal('leave'), room: Room }, strict),
  history: Type.Object({ type: Type.Literal('history'), room: Room }, strict),
  say: Type.Object({ type: Type.Literal('say'), room: Room, text: Type.String({ minLength: 1, maxLength: MAX_TEXT_LENGTH }) }, strict),
}

export type ClientMessage = { [K in keyof typeof SCHEMAS]: Static<typeof SCHEMAS[K]> }[keyof typeof SCHEMAS]

// One compiled check per type: a message is judged by the schema its `type` names, so the error says what was wrong
// with that kind of message rather than listing every kind it failed to be.
const checks = new Map(Object.entries(SCHEMAS).map(([type, schema]) => [type, Compile(schema as TSchema)]))

/** What a `say` or `join` must look like, for the error frame: fixed strings, nothing the client sent. */
const SHAPES: Record<keyof typeof SCHEMAS, string> = {
  join: 'join needs a room',
  leave: 'leave needs a room',
  history: 'history needs a room',
  say: `say needs a room and a text of 1 to ${MAX_TEXT_LENGTH} characters`,
}

export type ErrorCode =
  | 'bad_json' | 'invalid_message' | 'unknown_type' | 'too_large' | 'binary' | 'rate_limited'
  | 'unknown_room' | 'forbidden' | 'not_joined' | 'unavailable'

export type ServerMessage =
  | { type: 'rooms', subject: string, rooms: Array<{ name: RoomName, allowed: boolean }> }
  | { type: 'history', room: RoomName, messages: ChatMessage[] }
  | ({ type: 'say' } & ChatMessage)
  | { type: 'presence', room: RoomName, online: string[] }
  | { type: 'leave', room: RoomName, reason?: 'forbidden' }
  | { type: 'error', code: ErrorCode, message: string, room?: string }

export class ProtocolError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** Reads one frame from a client into a message, or throws a `ProtocolError` saying what was wrong. */
export function parseClientMessage (data: RawData, isBinary: boolean): ClientMessage {
  if (isBinary) throw new ProtocolError('binary', 'binary frames are not part of the chat protocol')
  const bytes = data as Buffer
  if (bytes.length > MAX_MESSAGE_BYTES) throw new ProtocolError('too_large', `messages are limited to ${MAX_MESSAGE_BYTES} bytes`)
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new ProtocolError('bad_json', 'not JSON')
  }
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined
  const check = typeof type === 'string' ? checks.get(type) : undefined
  if (check === undefined) throw new ProtocolError('unknown_type', 'type must be one of join, leave, say, history')
  if (!check.Check(value)) throw new ProtocolError('invalid_message', SHAPES[type as keyof typeof SCHEMAS])
  return value as ClientMessage
}

/** A server message as a frame. */
export function frame (message: ServerMessage): string {
  return JSON.stringify(message)
}
