/** Why a provider's document (a JWKS, an OpenID configuration) could not be had. */
export type UpstreamFailure = 'unreachable' | 'bad_response'

/**
 * A provider's endpoint did not answer (`unreachable`: refused, reset, timed out) or answered with something that is
 * not the document (`bad_response`: a status other than 200, not JSON). Its message names the URL and the reason, never
 * a body: fit for a one-line log.
 */
export class UpstreamError extends Error {
  readonly failure: UpstreamFailure

  constructor (failure: UpstreamFailure, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'UpstreamError'
    this.failure = failure
  }
}

function reasonOf (error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if ((error as { name?: unknown } | null)?.name === 'TimeoutError') return 'timed out'
  return 'request failed'
}

/** GETs a JSON document; redirects are not followed (a key set or configuration must come from its own URL). */
export async function fetchJson (url: string, timeoutMs: number): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    throw new UpstreamError('unreachable', `${url}: ${reasonOf(error)}`, { cause: error })
  }
  if (response.status !== 200) {
    await response.body?.cancel()
    throw new UpstreamError('bad_response', `${url}: HTTP ${response.status}`)
  }
  try {
    return await response.json()
  } catch (error) {
    // A body cut off mid-way is the connection's failure, not the document's.
    if ((error as { name?: unknown }).name !== 'SyntaxError') throw new UpstreamError('unreachable', `${url}: ${reasonOf(error)}`, { cause: error })
    throw new UpstreamError('bad_response', `${url}: not JSON`, { cause: error })
  }
}
