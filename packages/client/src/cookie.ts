import type { setSessionCookie } from '@wsauth/cookie-iframe/browser'
import { closeCodeOfRefusal } from './close-codes.js'
import { WsAuthClientError } from './errors.js'

/**
 * Has the server set its session cookie from `token`, through @wsauth/cookie-iframe's hidden iframe at `url`. The
 * helper that drives the iframe is the server's own (`<prefix>/client.js`, importable from any origin), loaded on first
 * use: it always matches the server's iframe, and pages that never use the cookie never load it.
 */
export async function setCookie (url: URL, token: string, timeoutMs: number): Promise<void> {
  const helper = await import(`${url.href}/client.js`).catch((error: unknown) => {
    throw new WsAuthClientError('unreachable', `${url.href}/client.js: ${(error as Error).message}`, { cause: error })
  }) as { setSessionCookie: typeof setSessionCookie }
  await helper.setSessionCookie(url, token, { timeoutMs }).catch((error: { status: number, error: string }) => {
    throw new WsAuthClientError('refused', `${url.href} refused the token (${error.error})`, {
      cause: error, closeCode: closeCodeOfRefusal(error.status, error.error === 'invalid_token'),
    })
  })
}
