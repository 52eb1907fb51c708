import { createHash, randomBytes } from 'node:crypto'
import type { SingleUseStore } from '@wsauth/core'

/** What a ticket stands for, as the store keeps it: plain JSON, so any store may serialise it. */
export interface TicketGrant {
  /** The token's subject, scopes, claims, id (`jti`) and expiry (epoch milliseconds): the redeemed socket's identity. */
  subject: string
  scopes: string[]
  claims: Record<string, unknown>
  tokenId: string | null
  expiresAt: number | null
  /** The `Origin` of the request that minted the ticket; `null` for a request without one (a machine). */
  origin: string | null
}

/** Where tickets wait to be redeemed, under the SHA-256 of the ticket (never the ticket itself). */
export type TicketStore = SingleUseStore<TicketGrant>

// 32 random bytes: 256 bits, as 43 characters of unpadded base64url.
const TICKET_BYTES = 32
const TICKET = /^[A-Za-z0-9_-]{43}$/

/** A new ticket: 256 bits from `crypto.randomBytes`, base64url. */
export function newTicket (): string {
  return randomBytes(TICKET_BYTES).toString('base64url')
}

/** Whether `value` has the shape of a ticket this package mints (what else is presented is malformed). */
export function isTicket (value: string): boolean {
  return TICKET.test(value)
}

/** The store's key for a ticket: whoever reads the store learns no ticket that could still be redeemed. */
export function ticketKey (ticket: string): string {
  return createHash('sha256').update(ticket).digest('base64url')
}
