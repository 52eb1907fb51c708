import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type {} from '@wsauth/ws-bearer'
import { DEFAULT_MESSAGE_NAMES, MessageCodec, type MessageNames } from './messages.js'
import { createProtocol } from './protocol.js'

export interface FirstMessageOptions {
  /** How long an upgraded socket may take to send its auth message, in milliseconds: 4408 after. Default 5000. */
  timeoutMs?: number
  /** The largest message a socket may send until it is answered `auth.ok`, in bytes: 1009 over it. Default 4096. */
  maxPayload?: number
  /** How long before a refreshable socket's token expires it is sent `auth.expiring`, in milliseconds. Default 30000. */
  expiringNoticeMs?: number
  /** The message vocabulary; each name defaults to `DEFAULT_MESSAGE_NAMES`. */
  messages?: Partial<MessageNames>
}

export const DEFAULT_TIMEOUT_MS = 5000
export const DEFAULT_MAX_PAYLOAD = 4096
export const DEFAULT_EXPIRING_NOTICE_MS = 30_000

function checkNumber (value: number, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`@wsauth/first-message: ${name} must be a finite number >= ${min}`)
  }
  return value
}

function checkInteger (value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`@wsauth/first-message: ${name} must be an integer >= 1`)
  return value
}

function checkNames (names: MessageNames): MessageNames {
  for (const [name, value] of Object.entries(names)) {
    if (typeof value !== 'string' || value === '') throw new TypeError(`@wsauth/first-message: messages.${name} must be a non-empty string`)
  }
  if (names.typeKey === names.tokenKey) throw new TypeError('@wsauth/first-message: messages.typeKey and tokenKey must differ')
  const types = [names.auth, names.refresh, names.ok, names.expiring]
  if (new Set(types).size !== types.length) throw new TypeError('@wsauth/first-message: the four message types must differ')
  return names
}

async function firstMessage (fastify: FastifyInstance, options: FirstMessageOptions): Promise<void> {
  const names = checkNames({ ...DEFAULT_MESSAGE_NAMES, ...options.messages })
  fastify.wsAuth.registerInBandProtocol(createProtocol({
    codec: new MessageCodec(names),
    timeoutMs: checkNumber(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs', 1),
    maxPayload: checkInteger(options.maxPayload ?? DEFAULT_MAX_PAYLOAD, 'maxPayload'),
    expiringNoticeMs: checkNumber(options.expiringNoticeMs ?? DEFAULT_EXPIRING_NOTICE_MS, 'expiringNoticeMs', 0),
  }))
}

export default fp(firstMessage, {
  name: '@wsauth/first-message',
  fastify: '5.x',
  dependencies: ['@wsauth/ws-bearer'],
})
