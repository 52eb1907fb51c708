import { createHmac } from 'node:crypto'

/** The HS256 key every test app gives @fastify/jwt. */
export const SECRET = 'wsauth-test-secret-that-is-long-enough-for-hs256'
/** A key nobody on a test server knows: tokens signed with it are forgeries. */
export const OTHER_SECRET = 'another-secret-that-nobody-on-this-server-knows'

function base64url (value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** A JWT put together by hand: any header, any payload, HS256 over `key`, or no signature at all for `null`. */
export function craftJwt (header: Record<string, unknown>, payload: Record<string, unknown>, key: string | null): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  const signature = key === null ? '' : createHmac('sha256', key).update(input).digest('base64url')
  return `${input}.${signature}`
}

/** The wall clock in JWT seconds, for claims far from any boundary (`exp: nowSeconds() - 60`, `+ 600`). */
export function nowSeconds (): number {
  return Math.floor(Date.now() / 1000)
}

/** The claims of a JWT, decoded without verifying: what a test signed, to compare `exp` and the like. */
export function claimsOf<Claims = { sub: string, iat: number, exp: number, jti?: string }> (token: string): Claims {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Claims
}
