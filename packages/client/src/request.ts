import { WsAuthClientError } from './errors.js'
import type { Timers } from './options.js'

/** A GET or POST that answers with the response and its whole body. */
export type Request = (url: URL, init?: RequestInit) => Promise<{ response: Response, body: string }>

// Node's fetch says only `fetch failed`; its cause has the system error's code (ECONNREFUSED, ENOTFOUND, …).
function describeCause (error: unknown): string {
  const code = (error as { cause?: { code?: unknown } }).cause?.code
  return typeof code === 'string' ? ` (${code})` : ''
}

/** Requests bounded by `timeoutMs`; network failures and timeouts are `unreachable` errors naming the URL. */
export function boundedRequest (timeoutMs: number, timers: Timers): Request {
  return async (url, init = {}) => {
    const abort = new AbortController()
    const timer = timers.setTimeout(() => abort.abort(), timeoutMs)
    try {
      const response = await fetch(url, { ...init, signal: abort.signal })
      return { response, body: await response.text() }
    } catch (error) {
      throw new WsAuthClientError('unreachable', abort.signal.aborted
        ? `${url.href}: no answer within ${timeoutMs} ms`
        : `${url.href}: ${(error as Error).message}${describeCause(error)}`, { cause: error })
    } finally {
      timers.clearTimeout(timer)
    }
  }
}
