import { WsAuthError, type FailureCounter } from '@wsauth/core'
import { fromStore } from './errors.js'

/** One counter and the key an attempt is counted under. */
export interface Counted {
  counter: FailureCounter
  key: string
}

/**
 * Counts one attempt under every key, in order, each checked and counted in one step before the attempt is judged:
 * a blocked client costs no further work, and attempts sent in parallel cannot all pass a check none of them has
 * counted yet. When a key is blocked, the keys counted before it get their attempt back and a `rate_limited` error
 * (429 with `Retry-After`) is thrown.
 */
export async function countAttempt (keys: readonly Counted[], message: string): Promise<void> {
  for (let i = 0; i < keys.length; i++) {
    const { counter, key } = keys[i]!
    const wait = await fromStore(() => counter.attempt(key))
    if (wait > 0) {
      await forgiveAttempt(keys.slice(0, i))
      throw new WsAuthError('rate_limited', message, { retryAfter: wait })
    }
  }
}

/** Takes back the attempt `countAttempt` counted: it turned out not to be a failure. */
export async function forgiveAttempt (keys: readonly Counted[]): Promise<void> {
  await fromStore(() => Promise.all(keys.map(({ counter, key }) => counter.forgive(key))))
}
