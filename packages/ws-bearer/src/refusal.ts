import type { FastifyReply, FastifyRequest } from 'fastify'
import { httpAnswer, toWsAuthError, type ChallengeOptions } from '@wsauth/core'

/**
 * The answer to a refused request on a plugin's own HTTP endpoint (a ticket, a session cookie): logged as a refused
 * handshake is (a refusal a client caused at `info`, a store that is down or a bug at `error`, never the credential),
 * and answered from the outcome table, `no-store`. `what` names the request in the log line.
 */
export function refuseRequest (
  request: FastifyRequest, reply: FastifyReply, thrown: unknown, challenge: ChallengeOptions, what: string
): FastifyReply {
  const error = toWsAuthError(thrown)
  if (error.outcome === 'internal' || error.outcome === 'unavailable') {
    request.log.error({ err: error.cause }, `${what} failed: %s`, error.outcome)
  } else {
    request.log.info({ wsAuth: { outcome: error.outcome, code: error.code } }, `${what} refused`)
  }
  const answer = httpAnswer(error, challenge)
  return reply.code(answer.status).headers(answer.headers).header('cache-control', 'no-store').send(answer.body)
}
