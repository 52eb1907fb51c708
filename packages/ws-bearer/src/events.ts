import { channel } from 'node:diagnostics_channel'
import type { Identity, Outcome, Transport } from '@wsauth/core'

/**
 * The guard's `node:diagnostics_channel` names, for monitoring. Subscribe with
 * `diagnostics_channel.subscribe(CHANNELS.failed, (event) => …)`. No event ever carries a credential.
 */
export const CHANNELS = Object.freeze({
  /** A socket authenticated (at the handshake or by its first message): `AuthenticatedEvent`. */
  authenticated: 'wsauth:authenticated',
  /** An authentication or refresh was refused: `FailedEvent`. */
  failed: 'wsauth:failed',
  /** A live socket was closed because its token expired: `LiveSocketEvent`. */
  expired: 'wsauth:expired',
  /** A live socket was closed by `disconnect`, `disconnectToken` or `revokeToken`: `RevokedEvent`. */
  revoked: 'wsauth:revoked',
  /** A live socket's credential was refreshed in band: `LiveSocketEvent` with the new expiry and token id. */
  refreshed: 'wsauth:refreshed',
})

/** Where an authentication was decided. */
export type Phase = 'handshake' | 'first-message' | 'refresh'

export interface AuthenticatedEvent {
  subject: string
  transport: Transport
  tokenId: string | null
  expiresAt: number | null
  /** The route's URL pattern, e.g. `/ws/:room`. */
  route: string
  phase: Exclude<Phase, 'refresh'>
}

export interface FailedEvent {
  outcome: Outcome
  /**
   * The transport that carried the refused credential: for a credential that could not be read, the extractor that
   * failed (`bearer` for any `Authorization` header); `null` when there was none.
   */
  transport: Transport | null
  route: string
  phase: Phase
}

export interface LiveSocketEvent {
  subject: string
  transport: Transport
  tokenId: string | null
  expiresAt: number | null
}

export interface RevokedEvent extends LiveSocketEvent {
  outcome: 'revoked' | 'withdrawn'
}

const authenticated = channel(CHANNELS.authenticated)
const failed = channel(CHANNELS.failed)
const expired = channel(CHANNELS.expired)
const revoked = channel(CHANNELS.revoked)
const refreshed = channel(CHANNELS.refreshed)

// Every publisher checks for subscribers first, so an unmonitored server builds no event objects.

export function publishAuthenticated (identity: Identity, route: string, phase: AuthenticatedEvent['phase']): void {
  if (!authenticated.hasSubscribers) return
  const { subject, transport, tokenId, expiresAt } = identity
  authenticated.publish({ subject, transport, tokenId, expiresAt, route, phase } satisfies AuthenticatedEvent)
}

export function publishFailed (outcome: Outcome, transport: Transport | null, route: string, phase: Phase): void {
  if (!failed.hasSubscribers) return
  failed.publish({ outcome, transport, route, phase } satisfies FailedEvent)
}

function liveSocketEvent (identity: Identity): LiveSocketEvent {
  const { subject, transport, tokenId, expiresAt } = identity
  return { subject, transport, tokenId, expiresAt }
}

/** A live socket closed by the guard: `expired`, or `revoked`/`withdrawn`. */
export function publishClosed (identity: Identity, outcome: Outcome): void {
  if (outcome === 'expired') {
    if (expired.hasSubscribers) expired.publish(liveSocketEvent(identity))
  } else if ((outcome === 'revoked' || outcome === 'withdrawn') && revoked.hasSubscribers) {
    revoked.publish({ ...liveSocketEvent(identity), outcome } satisfies RevokedEvent)
  }
}

export function publishRefreshed (identity: Identity): void {
  if (refreshed.hasSubscribers) refreshed.publish(liveSocketEvent(identity))
}
