import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type WebSocket from 'ws'
import { logCollector, nextMessage, opened, type Teardown } from '../../../test/helpers/index.ts'
import { buildApp, CHAT_PATH, type BuildOptions } from '../src/app.ts'
import type { Config } from '../src/config.ts'

export const JWT_SECRET = 'secured-chat-test-secret-long-enough-for-hs256'

/**
 * A clock the test moves by hand: the guard's expiry, the rate limit and message stamps all read it. Stopped (the
 * default), it stands still between moves; running, it is the real time plus every move so far, never behind it.
 */
export class TestClock {
  #offset = 0
  readonly #start = Date.now()
  readonly now: () => number

  constructor (mode: 'stopped' | 'running' = 'stopped') {
    this.now = mode === 'stopped' ? () => this.#start + this.#offset : () => Date.now() + this.#offset
  }

  advance (ms: number): void {
    this.#offset += ms
  }
}

export interface ChatNode {
  app: FastifyInstance
  port: number
  /** `ws://127.0.0.1:<port>/chat`. */
  url: string
  origin: string
  clock: TestClock
  /** Log lines, as JSON objects. */
  logs (): Array<Record<string, unknown>>
  /** Signs in at `POST /token`: the token response. */
  signIn (username: string, password: string, scope?: string): Promise<TokenResponse>
}

export interface TokenResponse { access_token: string, refresh_token: string, expires_in: number, scope: string }

export const PASSWORDS: Record<string, string> = { johndoe: 'secret', janedoe: 'secret2' }

export function testConfig (overrides: Partial<Config> = {}): Config {
  return {
    host: '127.0.0.1',
    port: 0,
    logLevel: 'info',
    tokenTtlSeconds: 900,
    allowedOrigins: [],
    redisUrl: null,
    jwtSecret: JWT_SECRET,
    messagesPerSecond: 20,
    oidc: null,
    ...overrides,
  }
}

/** The chat app in process, on 127.0.0.1 and `config.port` (default: a free one), closed in teardown. */
export async function startNode (
  t: Teardown, options: BuildOptions & { config?: Partial<Config>, testClock?: TestClock } = {}
): Promise<ChatNode> {
  const { config, testClock, ...build } = options
  const clock = testClock ?? new TestClock()
  const { stream, lines } = logCollector()
  const settings = testConfig(config)
  const app = await buildApp(settings, { clock: clock.now, logStream: stream, ...build })
  await app.listen({ host: '127.0.0.1', port: settings.port })
  const port = (app.server.address() as AddressInfo).port
  t.teardown(() => app.close())
  return {
    app,
    port,
    url: `ws://127.0.0.1:${port}${CHAT_PATH}`,
    origin: `http://127.0.0.1:${port}`,
    clock,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    async signIn (username, password, scope) {
      const response = await app.inject({
        method: 'POST',
        url: '/token',
        payload: { grant_type: 'password', username, password, ...(scope !== undefined && { scope }) },
      })
      if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`)
      return response.json<TokenResponse>()
    },
  }
}

export type Received = Record<string, unknown> & { type: string }

/** The next message on a chat socket, parsed. */
export async function next (socket: WebSocket): Promise<Received> {
  return JSON.parse(await nextMessage(socket)) as Received
}

/** A chat socket of `username` (Authorization: Bearer), past its `rooms` message. */
export async function chatSocket (node: ChatNode, username: string, scope?: string): Promise<{ socket: WebSocket, rooms: Received, token: TokenResponse }> {
  const token = await node.signIn(username, PASSWORDS[username]!, scope)
  const { socket } = await opened(node.url, { headers: { authorization: `Bearer ${token.access_token}` } })
  return { socket, rooms: await next(socket), token }
}

export function send (socket: WebSocket, message: unknown): void {
  socket.send(JSON.stringify(message))
}

/** Joins a room: resolves the `history` and `presence` that answer it. */
export async function join (socket: WebSocket, room: string): Promise<{ history: Received, presence: Received }> {
  send(socket, { type: 'join', room })
  const history = await next(socket)
  const presence = await next(socket)
  if (history.type !== 'history' || presence.type !== 'presence') {
    throw new Error(`join ${room}: got ${history.type}, ${presence.type}`)
  }
  return { history, presence }
}
