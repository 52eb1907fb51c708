import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { FastifyServerOptions } from 'fastify'
import type { Test } from 'tap'
import type { WsAuthOptions } from '@wsauth/ws-bearer'
import subprotocolToken from '@wsauth/subprotocol-token'
import ticket, { TICKET_SUBPROTOCOL_PREFIX, type TicketOptions } from '@wsauth/ticket'
import { ALLOWED_ORIGIN, build, echoesThenCloses, nextMessage, opened, type Fixture, type Teardown } from '../../../test/helpers/index.ts'

export { ALLOWED_ORIGIN }

export interface TicketFixture extends Fixture {
  /** The guard's clock: tests move it (`fx.advance(ms)`) instead of waiting. */
  now (): number
  advance (ms: number): void
  /** A JWT for `sub` (HS256, SECRET), 600 s, with a `jti` of `<sub>-<n>` and `scope` when given. */
  token (sub: string, scope?: string): string
}

export interface TicketFixtureOptions {
  guard?: WsAuthOptions
  ticket?: TicketOptions
  /** Register @wsauth/subprotocol-token too (protocols `echo.v1`). */
  subprotocolToken?: boolean
  logger?: FastifyServerOptions['logger']
}

/**
 * test/helpers' app (`/ws`, `/identity`, `/close-mode`, `/open`) with @wsauth/ticket, the guard's Origin allowlist
 * `ALLOWED_ORIGIN`, and a clock the test moves.
 */
export async function buildTicketApp (t: Teardown, options: TicketFixtureOptions = {}): Promise<TicketFixture> {
  let now = Date.now()
  let issued = 0
  const fx = await build(t, {
    guard: { origins: [ALLOWED_ORIGIN], clock: () => now, ...options.guard },
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    plugins: async (app) => {
      if (options.subprotocolToken === true) await app.register(subprotocolToken, { protocols: ['echo.v1'] })
      await app.register(ticket, options.ticket ?? {})
    },
  })
  return Object.assign(fx, {
    now: () => now,
    advance: (ms: number) => { now += ms },
    token: (sub: string, scope?: string) => fx.sign({ sub, ...(scope === undefined ? {} : { scope }) }, { expiresIn: 600, jti: `${sub}-${++issued}` }),
  })
}

export interface HttpAnswer { status: number, headers: IncomingHttpHeaders, body: string }

/** One HTTP request to the fixture's server, with exactly these headers. */
export function send (fx: Fixture, method: string, path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: fx.port, method, path, headers }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
    })
    request.on('error', reject)
    request.end()
  })
}

/** `POST /ws-ticket` with `token` as Bearer (and an Origin when given): the minted ticket. */
export async function mint (fx: Fixture, token: string, origin?: string): Promise<string> {
  const answer = await send(fx, 'POST', '/ws-ticket', {
    authorization: `Bearer ${token}`, ...(origin === undefined ? {} : { origin }),
  })
  if (answer.status !== 200) throw new Error(`expected a ticket, got ${answer.status} ${answer.body}`)
  return (JSON.parse(answer.body) as { ticket: string }).ticket
}

/** The subprotocol offer that carries `ticket`, after the application protocol `echo.v1`. */
export function ticketProtocols (ticket: string): string[] {
  return ['echo.v1', TICKET_SUBPROTOCOL_PREFIX + ticket]
}

/** A ticket still gets in on `/ws` after whatever the test did: the server keeps serving. */
export async function ticketStillServes (t: Test, fx: TicketFixture): Promise<void> {
  const { socket } = await opened(fx.url(`/ws?ticket=${await mint(fx, fx.token('probe'))}`))
  t.equal(await nextMessage(socket), 'Welcome probe!', 'a fresh ticket still gets in')
  await echoesThenCloses(t, socket)
}
