import { WsAuthClientError } from './errors.js'

/** The app's messages while the client is not open: bounded, sent in order once the server accepted a credential. */
export class SendQueue {
  readonly #limit: number
  #items: unknown[] = []

  constructor (limit: number) {
    this.#limit = limit
  }

  /** Holds `data`; throws `queue-full` once `limit` messages wait. */
  push (data: unknown): void {
    if (this.#items.length >= this.#limit) throw new WsAuthClientError('queue-full', `${this.#limit} messages are already waiting`)
    this.#items.push(data)
  }

  /** Hands every waiting message to `send`, oldest first, and forgets them. */
  flush (send: (data: unknown) => void): void {
    for (const data of this.#items.splice(0)) send(data)
  }

  clear (): void {
    this.#items = []
  }
}
