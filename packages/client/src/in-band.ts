import type { DiscoveryMessageNames as MessageNames } from '@wsauth/core'

/** The server's in-band messages: `auth.ok` (with the credential's expiry, when it gives one) and `auth.expiring`. */
export type InBandMessage = { type: 'ok', expiresAt: unknown } | { type: 'expiring' }

/** `data` read as the server's `auth.ok` or `auth.expiring`; `null` for anything else (the app's messages). */
export function readInBand (data: unknown, names: MessageNames): InBandMessage | null {
  if (typeof data !== 'string' || data[0] !== '{') return null
  if (!data.includes(names.ok) && !data.includes(names.expiring)) return null
  try {
    const message = JSON.parse(data)
    const type = message[names.typeKey]
    return type === names.ok ? { type: 'ok', expiresAt: message.expiresAt } : type === names.expiring ? { type: 'expiring' } : null
  } catch {
    return null
  }
}

/** The client's `auth` (the first message) or `auth.refresh`, carrying `token`. */
export function inBandCredential (names: MessageNames, type: 'auth' | 'refresh', token: string): string {
  return JSON.stringify({ [names.typeKey]: names[type], [names.tokenKey]: token })
}
