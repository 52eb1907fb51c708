/**
 * Keeping credentials out of log lines. A query that carries anything credential-like loses its whole query string
 * (`/ws?[redacted]`), not one parameter's value: no parser decides where a name or a value ends, so there is no
 * parser for a `"`, a `;`, a second `?` or a layer of percent-encoding to fool. The README says why in full.
 */

export const REDACTED = '[redacted]'

/**
 * Words that make a query credential-like wherever they appear in it (a name, a value, a URL nested in a value), in any
 * case, under any depth of percent-encoding: `access_token`, `id_token`, `ticket`, `api_key`, `password`,
 * `X-Amz-Signature`, OAuth's `code` need no entry of their own. A false alarm costs one query string in the log.
 */
export const CREDENTIAL_WORDS: readonly string[] = Object.freeze([
  'token', 'ticket', 'auth', 'bearer', 'jwt', 'key', 'secret', 'pass', 'pwd', 'cred', 'sess', 'sig', 'code', 'otp',
])

// Where a URL's redactable tail starts: the query (`?`), a fragment (`#`, which only a raw client sends), a `;`
// parameter (a query delimiter under Fastify's `useSemicolonDelimiter`), the first escape (behind which an encoded `?`
// can hide: `%3F`, `%253F`, `%%33%66`), or a JWT in the path.
const MARK = /[?#;%]/
// A JWT: `eyJ` (base64url for `{"`), base64url characters, a `.`. Each `eyJ…` run is matched whole, JWT (its `.`
// captured) or not, so that none is scanned twice: a pattern that tried again from every `eyJ` inside a run
// (`eyJeyJeyJ…`) would take time quadratic in the length of the URL.
const JWT_RUN = /eyJ[\w-]*(\.)?/gi
// Tails in text, where a tail ends at a space (a request target has none) or at the `"` that closes a JSON string
// (an escaped `\"` is part of the URL): `[^ "\\]*(?:\\.[^ "\\]*)*`, the unrolled form of `(?:[^ "\\]|\\.)*`, which
// V8 runs several times faster. The second branch takes an `eyJ…` run, and its tail when it is a JWT.
const TAIL_IN_TEXT = /[?#;%][^ "\\]*(?:\\.[^ "\\]*)*|eyJ[\w-]*(\.[^ "\\]*(?:\\.[^ "\\]*)*)?/gi
// User info (`http://user:password@host/`, also in a URL nested in a query), kept out whatever it holds.
const USERINFO = /\/\/[^/?#@]*@/g
const USERINFO_IN_TEXT = /\/\/[^/?#@ "\\]*(?:\\.[^/?#@ "\\]*)*@/g
// A Buffer as JSON (`err.rawPacket` of a client error holds the raw request): bytes no text search can check.
const BUFFER_IN_JSON = /\{"type":"Buffer","data":\[[\d,]*\]\}/g
const ESCAPES = /%[\da-f]{2}/gi
const ESCAPE = /%[\da-f]{2}/i
// No client encodes a URL eight times over: a tail still encoded after that many rounds counts as credential-like.
const MAX_DECODING_ROUNDS = 8

function decodeByte (escape: string): string {
  return String.fromCharCode(Number.parseInt(escape.slice(1), 16))
}

// Byte by byte, never throwing: the words are ASCII, so an invalid escape or invalid UTF-8 around them changes nothing.
function decodeFully (text: string): string | null {
  let decoded = text
  for (let round = 0; round < MAX_DECODING_ROUNDS; round++) {
    const next = decoded.replace(ESCAPES, decodeByte)
    if (next === decoded) return decoded
    decoded = next
  }
  return ESCAPE.test(decoded) ? null : decoded
}

function credentialWords (names: readonly string[]): readonly string[] {
  const extra = names.map((name) => name.toLowerCase()).filter((name) => name !== '' && !CREDENTIAL_WORDS.includes(name))
  return extra.length === 0 ? CREDENTIAL_WORDS : [...CREDENTIAL_WORDS, ...extra]
}

function firstJwt (text: string): number {
  for (const run of text.matchAll(JWT_RUN)) {
    if (run[1] !== undefined) return run.index
  }
  return -1
}

function tailStart (url: string): number {
  const mark = url.search(MARK)
  const jwt = firstJwt(mark === -1 ? url : url.slice(0, mark))
  return jwt === -1 ? mark : jwt
}

function isCredentialLike (tail: string, words: readonly string[]): boolean {
  const decoded = decodeFully(tail)
  if (decoded === null) return true
  const lower = decoded.toLowerCase()
  return words.some((word) => lower.includes(word)) || firstJwt(decoded) !== -1
}

// `?`, `#` and `;` stay, to show what was there; an escape or a JWT goes with the tail.
function redactTail (tail: string, words: readonly string[]): string {
  if (!isCredentialLike(tail, words)) return tail
  return '?#;'.includes(tail[0]!) ? tail[0] + REDACTED : REDACTED
}

function redactUrl (url: string, words: readonly string[]): string {
  const withoutUserinfo = url.replace(USERINFO, `//${REDACTED}@`)
  const start = tailStart(withoutUserinfo)
  if (start === -1) return withoutUserinfo
  return withoutUserinfo.slice(0, start) + redactTail(withoutUserinfo.slice(start), words)
}

function redactText (text: string, words: readonly string[]): string {
  return text
    .replace(USERINFO_IN_TEXT, `//${REDACTED}@`)
    .replace(TAIL_IN_TEXT, (tail: string, jwtTail: string | undefined) =>
      // An `eyJ…` run that is not a JWT stays as it is; a tail from a mark is judged.
      (jwtTail === undefined && !MARK.test(tail[0]!) ? tail : redactTail(tail, words)))
}

/**
 * A URL or path for a log line: its whole query string (with any fragment) becomes `[redacted]` when anything in it is
 * credential-like (`CREDENTIAL_WORDS`, the extra `names`, or a JWT), and user info always does. The path is kept.
 */
export function redactQuery (url: string, names: readonly string[] = []): string {
  return redactUrl(url, credentialWords(names))
}

/**
 * `redactQuery` for every URL in free text: a log message ("Route GET:/x?… not found") or a whole JSON log line, where
 * a URL ends at a space or at the unescaped `"` that closes its string.
 */
export function redactQueryInText (text: string, names: readonly string[] = []): string {
  return redactText(text, credentialWords(names))
}

/** The request fields Fastify's default `req` serializer reads. */
export interface LoggedRequest {
  method: string
  url: string
  headers?: Record<string, unknown>
  host?: string
  ip?: string
  socket?: { remotePort?: number }
}

/** Fastify's default `req` log fields, with `url` passed through `redactQuery`. No header is logged. */
export function redactedRequestSerializer (names: readonly string[] = []): (request: LoggedRequest) => Record<string, unknown> {
  const words = credentialWords(names)
  return (request) => ({
    method: request.method,
    url: redactUrl(request.url, words),
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  })
}

/**
 * Options for Fastify's logger (pino) that pass every line, at every level, through `redactQueryInText` just before it
 * is written, whichever field carries the URL (`req.url`, a message such as Fastify's "Route GET:/x?… not found", an
 * error message, @fastify/websocket's `path`), and replace any Buffer in it (a client error's raw bytes). Spread them
 * into `Fastify({ logger })`: only the constructor reaches what exists before any plugin runs, like the default 404.
 */
export function redactingLoggerOptions (names: readonly string[] = []): { hooks: { streamWrite (line: string): string } } {
  const words = credentialWords(names)
  return {
    hooks: {
      streamWrite: (line) => redactText(line, words).replace(BUFFER_IN_JSON, `"${REDACTED}"`),
    },
  }
}
