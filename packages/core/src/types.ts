/** How a credential reached the server. Packages that add a transport extend this union by name. */
export type Transport = 'bearer' | 'basic' | 'query' | 'subprotocol' | 'cookie' | 'first-message'

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
