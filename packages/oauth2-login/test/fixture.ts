import { Writable } from 'node:stream'
import type { Test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import wsBearer from '@wsauth/ws-bearer'
import passwordBearer, { MemoryUserStore } from '@wsauth/password-bearer'
import oauth2Login, { type OAuth2LoginOptions } from '@wsauth/oauth2-login'
import { APP_CLIENT, CookieJar, send, signInAtProvider, type ProviderSignIn } from '../../../test/helpers/oidc.ts'
import { nextMessage, opened } from '../../../test/helpers/ws.ts'
import { answer, type Answer } from '../../password-bearer/test/fixture.ts'

export { answer, type Answer }

export const JWT_SECRET = 'a test secret, long enough for HS256 signatures'
export const JOHN = { username: 'john', password: 'a password john knows' }
export const START = '/login/oidc'
export const CALLBACK = '/login/oidc/callback'

/** A clock the test moves: starts at the real time, never advances by itself. */
export class TestClock {
  now = Date.now()
  readonly read = (): number => this.now
  advance (ms: number): void {
    this.now += ms
  }
}

export interface App {
  app: FastifyInstance
  base: string
  clock: TestClock
  /** Every log line, at every level. */
  logs: string[]
  /** Resolves with the first log line (so far or to come) that matches. */
  logged (pattern: RegExp): Promise<string>
}

/**
 * An app with the guard (`/ws` greets `Welcome <subject>!`), password-bearer (john can log in) and this plugin against
 * `issuer`, with `test-app` as client and alice (or whoever `resolveUser` says) mapped to herself with scope `chat`.
 */
export async function startApp (t: Test, issuer: string, options: Partial<OAuth2LoginOptions> = {}): Promise<App> {
  const logs: string[] = []
  const waiting: Array<{ pattern: RegExp, resolve: (line: string) => void }> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      const line = String(chunk)
      logs.push(line)
      for (const waiter of waiting.filter(({ pattern }) => pattern.test(line))) {
        waiting.splice(waiting.indexOf(waiter), 1)
        waiter.resolve(line)
      }
      done()
    },
  })
  const logged = (pattern: RegExp): Promise<string> => {
    const line = logs.find((logLine) => pattern.test(logLine))
    return line === undefined ? new Promise((resolve) => waiting.push({ pattern, resolve })) : Promise.resolve(line)
  }
  const clock = new TestClock()
  const users = new MemoryUserStore({ scrypt: { N: 1024, r: 8, p: 1 } })
  await users.add(JOHN.username, JOHN.password, { scopes: ['chat'] })
  const app = Fastify({ logger: { level: 'trace', stream } })
  await app.register(fastifyJwt, { secret: JWT_SECRET })
  await app.register(websocket)
  await app.register(wsBearer, { query: true })
  await app.register(passwordBearer, { users, scrypt: { N: 1024, r: 8, p: 1 } })
  await app.register(oauth2Login, {
    issuer,
    clientId: APP_CLIENT.client_id,
    resolveUser: (claims) => (claims.sub === 'alice' ? { subject: 'alice', scopes: ['chat'] } : null),
    clock: clock.read,
    ...options,
  })
  app.get('/ws', { websocket: true }, (socket, request) => { socket.send(`Welcome ${request.identity!.subject}!`) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  return { app, base: `http://127.0.0.1:${port}`, clock, logs, logged }
}

/** The provider's answer, requested as a script would (asking for JSON). */
export async function callback (jar: CookieJar, url: URL, accept = 'application/json'): Promise<Answer> {
  return await answer(await send(jar, url, { headers: { accept } }))
}

/** A whole sign-in up to the provider's answer: the callback URL, with the jar holding the browser's cookies. */
export async function toCallback (app: App, person?: ProviderSignIn): Promise<{ jar: CookieJar, url: URL }> {
  const jar = new CookieJar()
  const url = await signInAtProvider(jar, `${app.base}${START}`, CALLBACK, person)
  return { jar, url }
}

export async function exchange (app: App, code: string): Promise<Answer> {
  return await answer(await fetch(`${app.base}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code }),
  }))
}

/** Asserts that john's password login still works and its token still opens `/ws`: nothing before did lasting harm. */
export async function stillServes (t: Test, app: App): Promise<void> {
  const login = await answer(await fetch(`${app.base}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username: JOHN.username, password: JOHN.password }),
  }))
  t.equal(login.status, 200, 'password logins still work')
  const { socket } = await opened(`${app.base.replace('http', 'ws')}/ws?token=${login.json.access_token}`)
  t.equal(await nextMessage(socket), 'Welcome john!', 'and their tokens open sockets')
  socket.close()
}
