import type { FastifyBaseLogger } from 'fastify'
import { WsAuthError, type DenyList, type Revocation, type RevocationBus } from '@wsauth/core'
import type { Connections } from './connections.js'

/**
 * Revocations across nodes. The one who revokes writes the denylist first, closes this node's sockets at once and
 * publishes on the bus; every node closes its matching sockets when the message arrives (this one finds them closed
 * already). A node the message misses still refuses a revoked token through the denylist.
 */
export class Revocations {
  readonly #connections: Connections
  readonly #denyList: DenyList
  readonly #bus: RevocationBus
  readonly #log: FastifyBaseLogger
  readonly #unsubscribe: () => void

  constructor (connections: Connections, denyList: DenyList, bus: RevocationBus, log: FastifyBaseLogger) {
    this.#connections = connections
    this.#denyList = denyList
    this.#bus = bus
    this.#log = log
    this.#unsubscribe = bus.subscribe((revocation) => this.#close(revocation))
  }

  /** Stops listening to the bus. */
  stop (): void {
    this.#unsubscribe()
  }

  /** Closes matching sockets on every node; returns how many on this one. A bus that fails is logged. */
  disconnect (revocation: Revocation): number {
    const closed = this.#close(revocation)
    this.#publish(revocation).catch(() => {})
    return closed
  }

  /**
   * Denylists a token id until `expiresAt`, then closes its sockets (and, with `subject`, the subject's password
   * sockets) on every node; resolves how many closed on this one. Rejects with `unavailable` when the denylist can't
   * be written: nothing is published then.
   */
  async revokeToken (tokenId: string, expiresAt: number | null, subject: string | undefined): Promise<number> {
    try {
      await this.#denyList.add(tokenId, expiresAt)
    } catch (error) {
      throw new WsAuthError('unavailable', undefined, { cause: error })
    }
    const revocations: Revocation[] = [{ kind: 'token', tokenId, outcome: 'revoked' }]
    if (subject !== undefined) revocations.push({ kind: 'passwords', subject, outcome: 'revoked' })
    let closed = 0
    for (const revocation of revocations) closed += this.#close(revocation)
    await Promise.all(revocations.map((revocation) => this.#publish(revocation)))
    return closed
  }

  #close (revocation: Revocation): number {
    if (revocation.kind === 'token') return this.#connections.closeTokenId(revocation.tokenId, revocation.outcome)
    if (revocation.kind === 'subject') return this.#connections.closeSubject(revocation.subject, revocation.outcome)
    return this.#connections.closePasswords(revocation.subject, revocation.outcome)
  }

  // Never rejects: the denylist (when there is an entry) is what protects a node the message did not reach.
  async #publish (revocation: Revocation): Promise<void> {
    try {
      await this.#bus.publish(revocation)
    } catch (error) {
      this.#log.error({ err: error }, 'wsauth: a revocation could not reach the other nodes')
    }
  }
}
