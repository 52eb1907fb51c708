export const REDACTED = '[redacted]'

function decodeName (name: string): string | null {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return null
  }
}

/**
 * Replaces the values of the named query parameters in a URL or path with `[redacted]`. A parameter whose name
 * cannot be decoded is redacted too: a log line is no place to guess.
 */
export function redactQuery (url: string, names: readonly string[]): string {
  const question = url.indexOf('?')
  if (question === -1 || names.length === 0) return url
  const hash = url.indexOf('#', question)
  const end = hash === -1 ? url.length : hash
  const parts = url.slice(question + 1, end).split('&').map((part) => {
    const equals = part.indexOf('=')
    const rawName = equals === -1 ? part : part.slice(0, equals)
    const name = decodeName(rawName)
    return name === null || names.includes(name) ? `${rawName}=${REDACTED}` : part
  })
  return `${url.slice(0, question + 1)}${parts.join('&')}${url.slice(end)}`
}
