/**
 * A JWT's `exp`, in epoch milliseconds; `null` when the token is not a JWT or has none. Read without verifying, and
 * used for one thing only: to renew the credential before the server closes the socket.
 */
export function jwtExpiry (token: string): number | null {
  const parts = token.split('.')
  if (parts.length !== 3) return null
  try {
    const exp: unknown = JSON.parse(atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/'))).exp
    return typeof exp === 'number' ? exp * 1000 : null
  } catch {
    return null
  }
}

/**
 * How long to wait before renewing a credential that expires at `expiresAt`: `marginMs` before it, but never less
 * than half of what is left, so a lifetime shorter than the margin does not turn into a reconnect loop.
 */
export function renewDelay (expiresAt: number, now: number, marginMs: number): number {
  const left = expiresAt - now
  return Math.max(0, left - marginMs, left / 2)
}
