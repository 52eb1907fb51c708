import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { readOptions, type OptionsReader } from '@wsauth/core'
import type {} from '@wsauth/ws-bearer'
import { DEFAULT_MESSAGE_NAMES, MessageCodec, type MessageNames } from './messages.js'
import { createProtocol } from './protocol.js'

export interface FirstMessageOptions {
  /** How long an upgraded socket may take to send its auth message, in milliseconds: 4408 after. Default 5000. */
  timeoutMs?: number
  /** The largest message a socket may send until it is answered `auth.ok`, in bytes: 1009 over it. Default 4096. */
  maxPayload?: number
  /**
   * How long before a refreshable socket's token expires it is sent `auth.expiring`, in milliseconds: at most once per
   * token, and never more than half the token's remaining life before its expiry. Default 30000; 0 sends none.
   */
  expiringNoticeMs?: number
  /** The message vocabulary; each name defaults to `DEFAULT_MESSAGE_NAMES`. */
  messages?: Partial<MessageNames>
}

export const DEFAULT_TIMEOUT_MS = 5000
export const DEFAULT_MAX_PAYLOAD = 4096
export const DEFAULT_EXPIRING_NOTICE_MS = 30_000

const PLUGIN = '@wsauth/first-message'
const MESSAGE_NAMES = Object.keys(DEFAULT_MESSAGE_NAMES) as Array<keyof MessageNames>

function readMessageNames (read: OptionsReader): MessageNames {
  const given = read.nested('messages', MESSAGE_NAMES)
  const names = { ...DEFAULT_MESSAGE_NAMES }
  for (const name of MESSAGE_NAMES) names[name] = given?.string(name, DEFAULT_MESSAGE_NAMES[name]) ?? DEFAULT_MESSAGE_NAMES[name]
  if (names.typeKey === names.tokenKey) throw read.error('messages', 'must name different keys for typeKey and tokenKey')
  const types = [names.auth, names.refresh, names.ok, names.expiring]
  if (new Set(types).size !== types.length) throw read.error('messages', 'must name four different message types')
  return names
}

async function firstMessage (fastify: FastifyInstance, options: FirstMessageOptions): Promise<void> {
  const read = readOptions(PLUGIN, options, ['timeoutMs', 'maxPayload', 'expiringNoticeMs', 'messages'])
  fastify.wsAuth.registerInBandProtocol(createProtocol({
    codec: new MessageCodec(readMessageNames(read)),
    timeoutMs: read.integer('timeoutMs', DEFAULT_TIMEOUT_MS),
    maxPayload: read.integer('maxPayload', DEFAULT_MAX_PAYLOAD),
    expiringNoticeMs: read.integer('expiringNoticeMs', DEFAULT_EXPIRING_NOTICE_MS, { min: 0 }),
  }))
}

export default fp(firstMessage, {
  name: '@wsauth/first-message',
  fastify: '5.x',
  dependencies: ['@wsauth/ws-bearer'],
})
