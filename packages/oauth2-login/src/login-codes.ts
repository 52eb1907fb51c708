import { createHash, randomBytes } from 'node:crypto'
import { WsAuthError, type Clock, type SingleUseStore } from '@wsauth/core'

/** Who signed in, as `resolveUser` mapped them: what the one-time code is exchanged for. */
export interface SignedIn {
  subject: string
  scopes: string[]
}

/** What a code is stored with: who signed in, and until when (epoch ms on the plugin's clock) the code is good. */
export interface PendingSignIn extends SignedIn {
  expiresAt: number
}

// The store holds digests: a copy of it (a Redis dump) gives no code that could still be redeemed.
function digest (code: string): string {
  return createHash('sha256').update(code).digest('base64url')
}

/** A store that fails is unavailable (503): neither the client's fault nor a bug here. */
async function fromStore<T> (call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw new WsAuthError('unavailable', undefined, { cause: error })
  }
}

/** One-time codes: issued at the end of a sign-in, redeemed once at `POST /token` before they expire. */
export class LoginCodes {
  readonly #store: SingleUseStore<PendingSignIn>
  readonly #ttlMs: number
  readonly #clock: Clock

  constructor (store: SingleUseStore<PendingSignIn>, ttlMs: number, clock: Clock) {
    this.#store = store
    this.#ttlMs = ttlMs
    this.#clock = clock
  }

  async issue (signedIn: SignedIn): Promise<string> {
    const code = randomBytes(32).toString('base64url')
    const expiresAt = this.#clock() + this.#ttlMs
    await fromStore(() => this.#store.put(digest(code), { subject: signedIn.subject, scopes: [...signedIn.scopes], expiresAt }, expiresAt))
    return code
  }

  /** The sign-in a code was issued for; `null` when it is unknown, spent or expired. */
  async redeem (code: string): Promise<SignedIn | null> {
    // Checked on this plugin's clock too: a shared store expires values on its own (Redis's), which may differ.
    const pending = await fromStore(() => this.#store.take(digest(code)))
    if (pending === null || pending.expiresAt <= this.#clock()) return null
    return { subject: pending.subject, scopes: pending.scopes }
  }
}
