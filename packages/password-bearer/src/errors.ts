import { WsAuthError } from '@wsauth/core'

/** The token endpoint's error codes (RFC 6749 §5.2). */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope'

/** An error answered as `{ error, error_description }`. Its message is a short fixed string, never client input. */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode

  constructor (error: OAuthErrorCode, description: string) {
    super(description)
    this.name = 'OAuthError'
    this.error = error
  }

  /** RFC 6749 §5.2: 401 for a failed client authentication, 400 for everything else. */
  get status (): 400 | 401 {
    return this.error === 'invalid_client' ? 401 : 400
  }
}

/** A store that fails is unavailable (503): neither the client's fault nor a bug here. */
export async function fromStore<T> (call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw new WsAuthError('unavailable', undefined, { cause: error })
  }
}
