import type { IncomingMessage } from 'node:http'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { WsAuthError } from '@wsauth/core'

type Done = (error: Error | null, body?: undefined) => void

// Called for any content type, and for a body with none: an empty body ends at once and parses to nothing; the first
// byte of one is refused there, unread past it (Fastify then closes the connection rather than read the rest).
function refuseBody (_request: FastifyRequest, payload: IncomingMessage, done: Done): void {
  const settle = (error: Error | null): void => {
    payload.off('data', onData)
    payload.off('end', onEnd)
    payload.off('close', onClose)
    done(error)
  }
  const onData = (): void => settle(new WsAuthError('malformed', 'no request body expected'))
  const onEnd = (): void => settle(null)
  // The client went away before its body ended: there is no one left to answer, only the request to finish.
  const onClose = (): void => settle(new WsAuthError('malformed', 'request body cut short'))
  payload.on('data', onData)
  payload.on('end', onEnd)
  payload.on('close', onClose)
}

/**
 * Makes the routes of an encapsulated instance take no body (a plugin's own endpoints: a ticket, a session cookie): a POST or DELETE with an empty body is accepted whatever
 * its Content-Type (`curl -d ''` sends `application/x-www-form-urlencoded`, `fetch` with `body: ''` sends
 * `text/plain`), and one with a body is refused with a `malformed` error (400 `invalid_request`) for the instance's
 * error handler to answer. A Content-Type that is no media type at all stays Fastify's 415.
 */
export function takeNoBody (instance: FastifyInstance): void {
  instance.removeAllContentTypeParsers()
  instance.addContentTypeParser('*', refuseBody)
}
