/**
 * How a credential can reach the server, one key per transport. Open: a package that adds a transport adds its name
 * by declaration merging, without editing core:
 *
 * ```ts
 * declare module '@wsauth/core' {
 *   interface Transports { ticket: true }
 * }
 * ```
 */
export interface Transports {
  /** `Authorization: Bearer`. */
  bearer: true
  /** `Authorization: Basic` (URI user info): `token:<token>`, or a username and password. */
  basic: true
  /** A query parameter (`?token=`). */
  query: true
  /** The socket's first message (and in-band refresh). */
  'first-message': true
}

/** The name of a transport: a key of `Transports`. */
export type Transport = keyof Transports

/** A credential as an extractor found it, before verification. */
export type Credential =
  | { kind: 'token', transport: Transport, token: string }
  | { kind: 'password', transport: Transport, username: string, password: string }

/** Who is on the socket: the verified result of a credential. */
export interface Identity {
  /** The principal, from the token's `sub` or the verified username. */
  subject: string
  /** Granted scopes (from `scope`, space-separated, or `scp`). */
  scopes: readonly string[]
  /** The verified token's claims, or `{}` for password credentials. */
  claims: Readonly<Record<string, unknown>>
  transport: Transport
  /** Epoch milliseconds after which the credential is no longer valid; `null` when it never expires. */
  expiresAt: number | null
  /** The token's `jti`, used for revocation; `null` when it has none. */
  tokenId: string | null
}
