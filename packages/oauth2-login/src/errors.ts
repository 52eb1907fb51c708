import { OUTCOMES, type Outcome } from '@wsauth/core'

/**
 * Why a sign-in ended without a code. Every one is answered with its fixed status and words, as a page or as JSON;
 * nothing the provider or the client sent is ever echoed.
 */
export type LoginFailure =
  | 'invalid_request'
  | 'state_mismatch'
  | 'login_expired'
  | 'access_denied'
  | 'provider_refused'
  | 'code_rejected'
  | 'nonce_mismatch'
  | 'invalid_id_token'
  | 'unknown_user'
  | 'provider_unavailable'

export interface LoginFailureAnswer {
  /** The row of core's outcome table that decides the status. */
  outcome: Outcome
  /** A short title for the page. */
  title: string
  /** One sentence for a person; the JSON `error_description`. */
  description: string
}

export const LOGIN_FAILURES: Readonly<Record<LoginFailure, Readonly<LoginFailureAnswer>>> = Object.freeze({
  invalid_request: { outcome: 'malformed', title: 'Sign-in failed', description: 'The sign-in answer is incomplete. Please start again.' },
  state_mismatch: {
    outcome: 'malformed',
    title: 'Sign-in not recognised',
    description: 'This sign-in was not started in this browser, or it was finished already. Please start again.',
  },
  login_expired: { outcome: 'malformed', title: 'Sign-in expired', description: 'The sign-in took too long. Please start again.' },
  access_denied: { outcome: 'forbidden', title: 'Sign-in cancelled', description: 'The sign-in was cancelled at the provider.' },
  provider_refused: { outcome: 'malformed', title: 'Sign-in refused', description: 'The provider refused the sign-in.' },
  code_rejected: {
    outcome: 'malformed',
    title: 'Sign-in expired',
    description: 'The provider no longer accepts this sign-in: it expired or was used already. Please start again.',
  },
  nonce_mismatch: {
    outcome: 'malformed',
    title: 'Sign-in not recognised',
    description: 'The provider\'s answer does not belong to this sign-in. Please start again.',
  },
  invalid_id_token: { outcome: 'invalid', title: 'Sign-in failed', description: 'The provider\'s identity token did not verify.' },
  unknown_user: { outcome: 'forbidden', title: 'No account', description: 'There is no account here for this identity.' },
  // Unreachable, or answering with something that is not what OpenID Connect says: either way, try again later.
  provider_unavailable: {
    outcome: 'unavailable',
    title: 'Provider unavailable',
    description: 'The sign-in provider cannot be reached right now. Please try again later.',
  },
})

/** A sign-in that ended without a code. Its message is the fixed description. */
export class LoginError extends Error {
  readonly failure: LoginFailure

  constructor (failure: LoginFailure, options: { cause?: unknown } = {}) {
    super(LOGIN_FAILURES[failure].description, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'LoginError'
    this.failure = failure
  }

  get status (): number {
    return OUTCOMES[LOGIN_FAILURES[this.failure].outcome].status!
  }
}
