import type { FastifyReply, FastifyRequest } from 'fastify'
import { basicChallenge, httpAnswer, toWsAuthError } from '@wsauth/core'
import { OAuthError } from './errors.js'
import { loggedError } from './logged-error.js'

// RFC 6749 §5.1: token responses must not be cached; errors carry nothing worth caching either.
export function noStore (reply: FastifyReply): void {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
}

/** Fastify's own 4xx errors (body too large, unsupported or unparsable content), with fixed descriptions. */
function requestError (error: unknown): { status: number, description: string } | null {
  const status = (error as { statusCode?: unknown } | null)?.statusCode
  if (typeof status !== 'number' || status < 400 || status > 499) return null
  if (status === 413) return { status, description: 'request body too large' }
  if (status === 415) return { status, description: 'unsupported content type' }
  // A parser's message can quote the body (JSON syntax errors do), so it is never passed on.
  return { status: 400, description: 'malformed request body' }
}

/**
 * The routes' error handler. The token endpoint's own errors follow RFC 6749 §5.2 (`OAuthError.status`); throttling,
 * a store that is down and bugs follow @wsauth/core's outcome table, like every other package's answers.
 */
export function errorAnswerer (realm: string): (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return function answerError (error, request, reply) {
    noStore(reply)
    if (error instanceof OAuthError) {
      request.log.info({ passwordBearer: { error: error.error } }, 'token endpoint request refused')
      if (error.error === 'invalid_client') reply.header('www-authenticate', basicChallenge(realm))
      return reply.code(error.status).send({ error: error.error, error_description: error.message })
    }
    const refused = requestError(error)
    if (refused !== null) {
      request.log.info({ passwordBearer: { error: 'invalid_request', status: refused.status } }, 'token endpoint request refused')
      return reply.code(refused.status).send({ error: 'invalid_request', error_description: refused.description })
    }
    const wsAuthError = toWsAuthError(error)
    if (wsAuthError.outcome === 'rate_limited') {
      request.log.info({ passwordBearer: { error: wsAuthError.outcome } }, 'token endpoint request refused')
    } else {
      request.log.error({ err: loggedError(wsAuthError.cause, request.body) }, 'token endpoint failed: %s', wsAuthError.outcome)
    }
    const answer = httpAnswer(wsAuthError, { realm })
    return reply.code(answer.status).headers(answer.headers).send(answer.body)
  }
}
