import type { DiscoveryRoute } from '@wsauth/core'
import { closeCodeOfRefusal, retryAfterHeaderMs } from './close-codes.js'
import { WsAuthClientError } from './errors.js'
import type { Request } from './request.js'

/** POST to the ticket endpoint with the token as Bearer: `{ ticket, expires_in }`. A refusal reads as its close code. */
export async function fetchTicket (request: Request, url: URL, token: string): Promise<string> {
  const { response, body } = await request(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  if (!response.ok) {
    const invalidToken = /invalid_token/.test(response.headers.get('www-authenticate') ?? '')
    throw new WsAuthClientError('refused', `${url.href} answered ${response.status}`, {
      closeCode: closeCodeOfRefusal(response.status, invalidToken),
      retryAfterMs: retryAfterHeaderMs(response.headers.get('retry-after')),
    })
  }
  let ticket: unknown
  try {
    ticket = JSON.parse(body).ticket
  } catch {}
  if (typeof ticket !== 'string' || ticket === '') throw new WsAuthClientError('unreachable', `${url.href}: no ticket in the answer`)
  return ticket
}

/** A ticket rides in the query when the route names a parameter, else as a subprotocol. */
export function addTicket (route: DiscoveryRoute, url: URL, protocols: string[], ticket: string): void {
  const { param, subprotocolPrefix } = route.transports.ticket!
  if (typeof param === 'string') url.searchParams.set(param, ticket)
  else protocols.push(subprotocolPrefix + ticket)
}
