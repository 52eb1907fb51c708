import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { WsAuthError, headerLines, isWsAuthError, parseAuthorization } from '@wsauth/core'
import { refuseRequest, takeNoBody } from '@wsauth/ws-bearer'
import { newTicket, ticketKey, type TicketGrant } from './grant.js'
import type { TicketSettings } from './options.js'

// A preflight's answer may be cached this long (seconds): the allowlist only changes with a restart.
const PREFLIGHT_MAX_AGE = '600'

/**
 * `POST <path>`: `Authorization: Bearer <access token>` in, `{ ticket, expires_in }` out. The token is verified by the
 * guard (its verifier and denylist); a page on another origin gets a ticket, and a CORS answer, only when its Origin is
 * on the guard's allowlist. `OPTIONS <path>` answers the preflight the `Authorization` header needs, on the same terms.
 * Both read no body (an empty one of any type is fine, a body is 400), in a context of their own.
 */
export async function mintRoutes (parent: FastifyInstance, settings: TicketSettings): Promise<void> {
  await parent.register(async function mintContext (fastify) {
    takeNoBody(fastify)
    mintRoutesIn(fastify, settings)
  })
}

function mintRoutesIn (fastify: FastifyInstance, settings: TicketSettings): void {
  const guard = fastify.wsAuth
  const { path, lifetimeMs, store, counter, realm } = settings

  /** Whether the request's Origin is on the allowlist (and so gets CORS headers). Throws 403 for a refused one. */
  function checkOrigin (request: FastifyRequest): boolean {
    const origin = request.headers.origin
    if (origin === undefined) return false
    if (guard.origins?.allows(origin) === true) return true
    // A page of this server's own origin needs no CORS, and a browser can't put another Host in its request.
    if (origin === `${request.protocol}://${request.host}`) return false
    throw new WsAuthError('forbidden', 'origin not allowed')
  }

  // Refusals carry it too: a page must be able to read a 401 or a 429 (and its Retry-After) to act on it.
  function cors (reply: FastifyReply, origin: string): FastifyReply {
    return reply
      .header('access-control-allow-origin', origin)
      .header('access-control-expose-headers', 'retry-after, www-authenticate')
      .header('vary', 'Origin')
  }

  function refuse (request: FastifyRequest, reply: FastifyReply, thrown: unknown): FastifyReply {
    return refuseRequest(request, reply, thrown, { realm }, 'wsauth ticket request')
  }

  // A refused body arrives here, before the routes ran: answered as they answer, CORS included.
  fastify.setErrorHandler(function refusedBody (error, request, reply) {
    if (!isWsAuthError(error)) throw error
    try {
      if (checkOrigin(request)) cors(reply, request.headers.origin!)
    } catch (thrown) {
      return refuse(request, reply, thrown)
    }
    return refuse(request, reply, error)
  })

  async function mint (request: FastifyRequest): Promise<{ ticket: string, expires_in: number }> {
    // Any other scheme carries no credential here, as at the guard.
    const authorization = parseAuthorization(headerLines(request.raw, 'authorization'), ['bearer'])
    if (authorization === null) throw new WsAuthError('missing', 'no credentials')
    const identity = await guard.verifyToken(authorization.credentials, request, 'bearer')
    // Counted once the token is known good, so a flood of bad tokens can't lock a subject out.
    const wait = counter === null ? 0 : await counter.attempt(identity.subject).catch(unavailable)
    if (wait > 0) throw new WsAuthError('rate_limited', 'too many tickets', { retryAfter: wait })
    const now = guard.clock()
    // Never past the token's own expiry: the ticket can't outlive what it stands for.
    const expiresAt = Math.min(now + lifetimeMs, identity.expiresAt ?? Infinity)
    const ticket = newTicket()
    const grant: TicketGrant = {
      subject: identity.subject,
      scopes: [...identity.scopes],
      claims: { ...identity.claims },
      tokenId: identity.tokenId,
      expiresAt: identity.expiresAt,
      origin: request.headers.origin ?? null,
    }
    await store.put(ticketKey(ticket), grant, expiresAt).catch(unavailable)
    return { ticket, expires_in: Math.ceil((expiresAt - now) / 1000) }
  }

  fastify.post(path, async (request, reply) => {
    let answer: { ticket: string, expires_in: number }
    try {
      if (checkOrigin(request)) cors(reply, request.headers.origin!)
      answer = await mint(request)
    } catch (thrown) {
      return refuse(request, reply, thrown)
    }
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(answer)
  })

  fastify.options(path, async (request, reply) => {
    try {
      if (!checkOrigin(request)) return await reply.code(204).send()
    } catch (thrown) {
      return refuse(request, reply, thrown)
    }
    return cors(reply, request.headers.origin!)
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'authorization')
      .header('access-control-max-age', PREFLIGHT_MAX_AGE)
      .code(204)
      .send()
  })
}

function unavailable (error: unknown): never {
  throw new WsAuthError('unavailable', undefined, { cause: error })
}
