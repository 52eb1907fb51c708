import { WsAuthClientError } from './errors.js'

/**
 * Why a credential is asked for: `connect` (the first attempt), `reconnect` (after the connection was lost),
 * `unauthorized` (the server refused the last one: 4401), `expiring` (the current one is about to expire). For
 * anything but `connect`, return a credential you have not handed out before.
 */
export type TokenReason = 'connect' | 'reconnect' | 'unauthorized' | 'expiring'

/** The app's source of credentials: a token (or ticket), or `null` when there is none (signed out: the client stops). */
export type CredentialSource = (context: { reason: TokenReason }) => Promise<string | null> | string | null

/** Follows the app's `null`: signed out, the client stops. */
export class SignedOut extends Error {}

/** Asks `source` for a credential; its failure becomes a `token` error, its `null` a `SignedOut`. */
export async function credential (source: CredentialSource, reason: TokenReason): Promise<string> {
  let value: string | null
  try {
    value = await source({ reason })
  } catch (error) {
    throw new WsAuthClientError('token', `the app's credential source failed (${reason})`, { cause: error })
  }
  if (value === null || value === undefined) throw new SignedOut()
  return value
}
