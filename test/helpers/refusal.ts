import type { Test } from 'tap'
import { closed, nextMessage, opened, type Refused } from './ws.ts'

export const CHALLENGE = 'Bearer realm="wsauth"'
export const INVALID_TOKEN_CHALLENGE = 'Bearer realm="wsauth", error="invalid_token"'
export const INVALID_REQUEST_CHALLENGE = 'Bearer realm="wsauth", error="invalid_request"'
export const BASIC_CHALLENGE = 'Basic realm="wsauth", charset="UTF-8"'

export interface ExpectedRefusal {
  status: number
  /** The exact `WWW-Authenticate` value as the client sees it (Node joins two lines with `, `); `null`: none. */
  wwwAuthenticate?: string | null
  body?: { error: string, error_description: string }
}

/** Asserts an HTTP refusal of a handshake: status, and `WWW-Authenticate` and the JSON body when given. */
export function assertRefused (t: Test, refusal: Refused, expected: ExpectedRefusal, name = ''): void {
  const prefix = name === '' ? '' : `${name}: `
  t.equal(refusal.status, expected.status, `${prefix}status ${expected.status}`)
  if (expected.wwwAuthenticate !== undefined) {
    t.equal(refusal.headers['www-authenticate'], expected.wwwAuthenticate ?? undefined, `${prefix}WWW-Authenticate`)
  }
  if (expected.body !== undefined) {
    t.strictSame(JSON.parse(refusal.body), expected.body, `${prefix}body`)
  }
}

/** Close mode: the handshake is upgraded, then closed at once; resolves with the close code and reason. */
export async function closedOnOpen (url: string, options?: Parameters<typeof opened>[1]): Promise<{ code: number, reason: string }> {
  const { socket } = await opened(url, options)
  const result = await closed(socket)
  const leaked = await nextMessage(socket).catch(() => null)
  if (leaked !== null) throw new Error(`a rejected socket received ${JSON.stringify(leaked)}`)
  return result
}
