export const REDACTED = '[redacted]'

function decodeName (name: string): string | null {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '))
  } catch {
    return null
  }
}

function redactParameter (part: string, names: readonly string[]): string {
  const equals = part.indexOf('=')
  const rawName = equals === -1 ? part : part.slice(0, equals)
  const name = decodeName(rawName)
  return name === null || names.includes(name) ? `${rawName}=${REDACTED}` : part
}

/**
 * Replaces the values of the named query parameters in a URL or path with `[redacted]`. Everything after the path
 * counts, a fragment included (no client should send one, but a raw one can), and a parameter whose name cannot be
 * decoded is redacted too: a log line is no place to guess.
 */
export function redactQuery (url: string, names: readonly string[]): string {
  if (names.length === 0) return url
  const start = url.search(/[?#]/)
  if (start === -1) return url
  return url.slice(0, start + 1) + url.slice(start + 1).replace(/[^&?#]+/g, (part) => redactParameter(part, names))
}

/** Replaces the named query parameters' values in every URL tail that appears in free text (a log message). */
export function redactQueryInText (text: string, names: readonly string[]): string {
  return text.replace(/[?#][^\s"]*/g, (tail) => redactQuery(tail, names))
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

/** Fastify's default `req` log fields, with the named query parameters redacted from `url`. */
export function redactedRequestSerializer (names: readonly string[]): (request: LoggedRequest) => Record<string, unknown> {
  return (request) => ({
    method: request.method,
    url: redactQuery(request.url, names),
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  })
}

/**
 * Options for Fastify's logger (pino) that redact the named query parameters from every request log line and from
 * message text, such as Fastify's own "Route GET:/x?token=… not found". Spread them into `Fastify({ logger })`:
 * only the constructor reaches the routes that exist before any plugin runs, like the default 404.
 */
export function redactingLoggerOptions (names: readonly string[]): {
  serializers: { req: (request: LoggedRequest) => Record<string, unknown> }
  hooks: { logMethod (this: unknown, args: unknown[], method: (...args: unknown[]) => void): void }
} {
  return {
    serializers: { req: redactedRequestSerializer(names) },
    hooks: {
      logMethod (args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactQueryInText(arg, names) : arg)))
      },
    },
  }
}
