/**
 * The revocation bus: carries "close these sockets" to every node. A node closes its own matching sockets when it
 * publishes, and every node (the publisher too) closes them again on receipt, which finds none there.
 */

/** How a revoked socket is closed: 4401 `token revoked`, or 4403 when access itself was withdrawn. */
export type RevocationOutcome = 'revoked' | 'withdrawn'

export type Revocation =
  /** Every socket of a subject. */
  | { kind: 'subject', subject: string, outcome: RevocationOutcome }
  /** The sockets authenticated with one token id. */
  | { kind: 'token', tokenId: string, outcome: RevocationOutcome }
  /** The sockets a subject opened with a username and password (they carry no token id). */
  | { kind: 'passwords', subject: string, outcome: RevocationOutcome }

export type RevocationListener = (revocation: Revocation) => void

export interface RevocationBus {
  /** Sends a revocation to every subscriber on every node; rejects when it could not be sent. */
  publish (revocation: Revocation): Promise<void>
  /** Calls `listener` with every revocation published from now on; returns the function that stops it. */
  subscribe (listener: RevocationListener): () => void
}

/** The bus of one process: a publish reaches this process's subscribers, synchronously. */
export class MemoryRevocationBus implements RevocationBus {
  readonly #listeners = new Set<RevocationListener>()

  async publish (revocation: Revocation): Promise<void> {
    for (const listener of this.#listeners) listener(revocation)
  }

  subscribe (listener: RevocationListener): () => void {
    // A wrapper per subscription: the same function subscribed twice is two subscriptions.
    const subscription: RevocationListener = (revocation) => listener(revocation)
    this.#listeners.add(subscription)
    return () => { this.#listeners.delete(subscription) }
  }
}

/** Checks a message read off a shared channel: a revocation, or `null` for anything else. */
export function parseRevocation (value: unknown): Revocation | null {
  if (typeof value !== 'object' || value === null) return null
  const { kind, subject, tokenId, outcome } = value as Record<string, unknown>
  if (outcome !== 'revoked' && outcome !== 'withdrawn') return null
  if ((kind === 'subject' || kind === 'passwords') && typeof subject === 'string') return { kind, subject, outcome }
  if (kind === 'token' && typeof tokenId === 'string') return { kind, tokenId, outcome }
  return null
}
