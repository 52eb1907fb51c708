// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single spaces.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

export function isScopeToken (value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value)
}

/** The distinct scope tokens of a `scope` value, in order; `null` when it is malformed. */
export function parseScope (value: string): string[] | null {
  const tokens = value.split(' ')
  return tokens.every(isScopeToken) ? [...new Set(tokens)] : null
}

export function isSubset (requested: readonly string[], allowed: readonly string[]): boolean {
  return requested.every((scope) => allowed.includes(scope))
}

export function checkScopes (scopes: unknown, what: string): string[] {
  if (!Array.isArray(scopes) || !scopes.every(isScopeToken)) {
    throw new TypeError(`${what} must be an array of scope tokens (RFC 6749 §3.3: printable ASCII, no space, " or \\)`)
  }
  return [...new Set(scopes)]
}
