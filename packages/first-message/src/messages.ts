import type { RawData } from 'ws'
import { WsAuthError, type Credential, type DiscoveryMessageNames } from '@wsauth/core'

/** The protocol's vocabulary, as the discovery document lists it (`inBand.messages`). */
export type MessageNames = DiscoveryMessageNames

export const DEFAULT_MESSAGE_NAMES: Readonly<MessageNames> = Object.freeze({
  typeKey: 'type',
  tokenKey: 'token',
  auth: 'auth',
  refresh: 'auth.refresh',
  ok: 'auth.ok',
  expiring: 'auth.expiring',
})

const OPEN_BRACE = 0x7b
const BACKSLASH = 0x5c

function isJsonWhitespace (byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
}

function field (message: unknown, key: string): unknown {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return undefined
  return Object.hasOwn(message, key) ? (message as Record<string, unknown>)[key] : undefined
}

function parse (data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'))
  } catch {
    return undefined
  }
}

/** Reads and writes the protocol's messages. Only text frames carry them; ws hands text over as a Buffer. */
export class MessageCodec {
  readonly names: Readonly<MessageNames>
  readonly #refreshBytes: Buffer

  constructor (names: Readonly<MessageNames>) {
    this.names = names
    this.#refreshBytes = Buffer.from(names.refresh, 'utf8')
  }

  /** The credential of an auth message: anything else is `missing` (4401), an auth message without a token `malformed`. */
  authCredential (data: RawData, isBinary: boolean): Credential {
    const message = isBinary || !Buffer.isBuffer(data) ? undefined : parse(data)
    if (field(message, this.names.typeKey) !== this.names.auth) {
      throw new WsAuthError('missing', 'the first message must be an auth message')
    }
    return { kind: 'token', transport: 'first-message', token: this.#token(message) }
  }

  /**
   * The token of a refresh message, or `undefined` for any other message (the app's). Most messages are told apart
   * without parsing: a refresh message is a JSON object, and its type value appears in it either as is or escaped,
   * which needs a backslash. Anything that could be one is parsed, so no refresh message reaches the app.
   */
  refreshToken (data: RawData, isBinary: boolean): string | undefined {
    if (isBinary || !Buffer.isBuffer(data)) return undefined
    let start = 0
    while (start < data.length && isJsonWhitespace(data[start]!)) start++
    if (data[start] !== OPEN_BRACE) return undefined
    if (data.indexOf(this.#refreshBytes, start) === -1 && data.indexOf(BACKSLASH, start) === -1) return undefined
    const message = parse(data)
    if (field(message, this.names.typeKey) !== this.names.refresh) return undefined
    return this.#token(message)
  }

  /** `auth.ok`, with the credential's expiry in epoch milliseconds (`null`: it never expires). */
  ok (expiresAt: number | null): string {
    return JSON.stringify({ [this.names.typeKey]: this.names.ok, expiresAt })
  }

  /** `auth.expiring`, with the expiry the client should refresh before. */
  expiring (expiresAt: number | null): string {
    return JSON.stringify({ [this.names.typeKey]: this.names.expiring, expiresAt })
  }

  #token (message: unknown): string {
    const token = field(message, this.names.tokenKey)
    if (typeof token !== 'string' || token === '') throw new WsAuthError('malformed', 'no token in the message')
    return token
  }
}
