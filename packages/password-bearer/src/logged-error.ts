import { REDACTED } from '@wsauth/core'

/**
 * A failure's cause as it may be logged: its message and stack with every value the request sent replaced. A grant
 * handler or a store may put a code, a token or a password it was given into an error message; the log line must
 * not carry it.
 */
export function loggedError (cause: unknown, body: unknown): unknown {
  if (!(cause instanceof Error)) return cause
  const sent = sentValues(body)
  const hide = (text: string): string => sent.reduce((hidden, value) => hidden.split(value).join(REDACTED), text)
  const logged = new Error(hide(cause.message))
  logged.name = cause.name
  logged.stack = cause.stack === undefined ? undefined : hide(cause.stack)
  return logged
}

// Every string the body sent (a field given twice arrives as an array) but the grant type, longest first, so a value
// inside another is not left half shown.
function sentValues (body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return []
  return Object.entries(body)
    .filter(([name]) => name !== 'grant_type')
    .flatMap(([, value]) => (Array.isArray(value) ? value : [value]))
    .filter((value): value is string => typeof value === 'string' && value !== '')
    .sort((a, b) => b.length - a.length)
}
