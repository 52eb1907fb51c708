import { OAuthError } from './errors.js'
import { parseScope } from './scope.js'

export type Params = Readonly<Record<string, unknown>>

/** The request body as parameters: a form or a JSON object. No body at all has no parameters. */
export function bodyParams (body: unknown): Params {
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw new OAuthError('invalid_request', 'body must be a form or a JSON object')
  return body as Params
}

/**
 * One parameter's value. RFC 6749 §3.2: an empty value counts as absent, and a parameter may appear once — a form
 * field given twice arrives as an array, and is refused like any other value that is not a string.
 */
export function optionalParam (params: Params, name: string): string | undefined {
  const value = Object.hasOwn(params, name) ? params[name] : undefined
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} must be one string`)
  return value
}

export function requiredParam (params: Params, name: string): string {
  const value = optionalParam(params, name)
  if (value === undefined) throw new OAuthError('invalid_request', `missing ${name}`)
  return value
}

/** The requested scopes; `undefined` when the request names none. */
export function scopeParam (params: Params): string[] | undefined {
  const value = optionalParam(params, 'scope')
  if (value === undefined) return undefined
  const scopes = parseScope(value)
  if (scopes === null) throw new OAuthError('invalid_scope', 'malformed scope')
  return scopes
}
