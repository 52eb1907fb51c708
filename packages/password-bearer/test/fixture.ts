import { Writable } from 'node:stream'
import type t from 'tap'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import wsBearer, { type WsAuthOptions } from '@wsauth/ws-bearer'
import passwordBearer, { MemoryUserStore, type PasswordBearerOptions, type ScryptParams } from '@wsauth/password-bearer'
import { SECRET as JWT_SECRET } from '../../../test/helpers/jwt.ts'

/** Cheap scrypt parameters for tests; the defaults are what production gets. */
export const FAST_SCRYPT: ScryptParams = { N: 1024, r: 8, p: 1 }
export { JWT_SECRET }
export const ALICE = { username: 'alice', password: 'correct horse battery staple', scopes: ['chat:read', 'chat:write'] }

/** The `t` a subtest callback receives. */
export type Test = Parameters<Parameters<typeof t.test>[0]>[0]

export interface TestServer {
  app: FastifyInstance
  users: MemoryUserStore
  /** `http://127.0.0.1:<port>` */
  base: string
  /** The guarded websocket route: `ws://127.0.0.1:<port>/ws` */
  wsUrl: string
  /** Every log line the server wrote, at every level. */
  logs: string[]
}

export interface ServerSetup {
  fastify?: FastifyServerOptions
  guard?: WsAuthOptions
  /** The plugin to register: a copy loaded with `t.mockImport`, for instance. */
  plugin?: typeof passwordBearer
  /** Runs after the plugins are registered and before the server is ready: to add grants, routes. */
  prepare?: (app: FastifyInstance) => void | Promise<void>
}

/**
 * A real server on 127.0.0.1: @fastify/jwt, @fastify/websocket, the ws-bearer guard and this plugin, with alice as
 * a user and `/ws`, a guarded route that greets with the identity and echoes.
 */
export async function startServer (t: Test, options: Partial<PasswordBearerOptions> = {}, setup: ServerSetup = {}): Promise<TestServer> {
  const logs: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      logs.push(String(chunk))
      done()
    },
  })
  const users = new MemoryUserStore({ scrypt: FAST_SCRYPT })
  await users.add(ALICE.username, ALICE.password, { scopes: ALICE.scopes })
  const app = Fastify({ logger: { level: 'trace', stream }, ...setup.fastify })
  await app.register(fastifyJwt, { secret: JWT_SECRET })
  await app.register(websocket)
  await app.register(wsBearer, setup.guard ?? {})
  await app.register(setup.plugin ?? passwordBearer, { users, scrypt: FAST_SCRYPT, ...options })
  app.get('/ws', { websocket: true }, (socket, request) => {
    socket.send(JSON.stringify({ subject: request.identity?.subject, scopes: request.identity?.scopes }))
    socket.on('message', (data) => socket.send(`echo: ${String(data)}`))
  })
  await setup.prepare?.(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  return { app, users, base: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws`, logs }
}

export interface Answer {
  status: number
  headers: Headers
  text: string
  /** The parsed JSON body, or `undefined` when the body is not JSON. */
  json: any
}

export async function answer (response: Response): Promise<Answer> {
  const text = await response.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** POSTs a form body; a field given an array is sent once per value. */
export async function postForm (url: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Answer> {
  const body = new URLSearchParams()
  for (const [name, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) body.append(name, one)
  }
  return await answer(await fetch(url, { method: 'POST', body, headers }))
}

export async function postJson (url: string, value: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return await answer(await fetch(url, {
    method: 'POST',
    body: JSON.stringify(value),
    headers: { 'content-type': 'application/json', ...headers },
  }))
}

export async function postRaw (url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  return await answer(await fetch(url, { method: 'POST', body, headers }))
}

/** A password grant for alice (or whoever `fields` names) that must succeed. */
export async function login (server: TestServer, fields: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<any> {
  const result = await postForm(`${server.base}/token`, {
    grant_type: 'password', username: ALICE.username, password: ALICE.password, ...fields,
  }, headers)
  if (result.status !== 200) throw new Error(`login failed: ${result.status} ${result.text}`)
  return result.json
}

/** Asserts that the server still issues tokens: a bad request before it did no lasting harm. */
export async function stillServes (t: Test, server: TestServer): Promise<void> {
  const result = await postForm(`${server.base}/token`, { grant_type: 'password', username: ALICE.username, password: ALICE.password })
  t.equal(result.status, 200, 'the server still answers a good request')
}

/** The claims of an access token, verified with the app's key. */
export function claimsOf (server: TestServer, accessToken: string): Record<string, unknown> {
  return server.app.jwt.verify(accessToken)
}

export function bearer (token: string): { headers: { authorization: string } } {
  return { headers: { authorization: `Bearer ${token}` } }
}
