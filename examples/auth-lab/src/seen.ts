import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Outcome, Transport } from '@wsauth/core'
import { CHANNELS, type AuthenticatedEvent, type FailedEvent, type Phase } from '@wsauth/ws-bearer'

/** One authentication the guard decided, as the app tells the page: no credential, no token id. */
export interface SeenAttempt {
  seq: number
  route: string
  phase: Phase
  /** `authenticated`, or the outcome of the refusal (`missing`, `invalid`, `forbidden`, …). */
  result: 'authenticated' | Outcome
  transport: Transport | null
  subject: string | null
}

const KEPT_ATTEMPTS = 200

/**
 * What one app's guard decided, from the guard's diagnostics channels. The channels are process-wide, so each app keeps
 * the events of its own routes (every method app's routes have their own paths).
 */
export class SeenAttempts {
  readonly #routes: ReadonlySet<string>
  readonly #attempts: SeenAttempt[] = []
  #seq = 0

  constructor (routes: Iterable<string>) {
    this.#routes = new Set(routes)
  }

  readonly #onAuthenticated = (message: unknown): void => {
    const event = message as AuthenticatedEvent
    this.#add(event.route, event.phase, 'authenticated', event.transport, event.subject)
  }

  readonly #onFailed = (message: unknown): void => {
    const event = message as FailedEvent
    this.#add(event.route, event.phase, event.outcome, event.transport, null)
  }

  #add (route: string, phase: Phase, result: SeenAttempt['result'], transport: Transport | null, subject: string | null): void {
    if (!this.#routes.has(route)) return
    this.#attempts.push({ seq: ++this.#seq, route, phase, result, transport, subject })
    if (this.#attempts.length > KEPT_ATTEMPTS) this.#attempts.shift()
  }

  start (): void {
    subscribe(CHANNELS.authenticated, this.#onAuthenticated)
    subscribe(CHANNELS.failed, this.#onFailed)
  }

  stop (): void {
    unsubscribe(CHANNELS.authenticated, this.#onAuthenticated)
    unsubscribe(CHANNELS.failed, this.#onFailed)
  }

  /** The latest sequence number: a page reads it before an attempt and asks for what came after. */
  get last (): number {
    return this.#seq
  }

  after (seq: number): SeenAttempt[] {
    return this.#attempts.filter((attempt) => attempt.seq > seq)
  }
}
