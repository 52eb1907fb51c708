import type { DiscoveryDocument, DiscoveryRoute } from '@wsauth/core'
import { WsAuthClientError } from './errors.js'
import type { Request } from './request.js'

const isObject = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null

function isRoute (route: unknown): route is DiscoveryRoute {
  return isObject(route) && typeof route.path === 'string' && isObject(route.transports) && Array.isArray(route.protocols)
}

/**
 * Checks what the client relies on (`@wsauth/core/discovery.schema.json` is the full description); keys it does not
 * know are ignored, as the contract asks. Throws a `discovery` error naming `source` otherwise.
 */
export function readDiscovery (value: unknown, source: string): DiscoveryDocument {
  if (isObject(value) && value.wsauth === 1 && Array.isArray(value.routes) && value.routes.every(isRoute) &&
    (value.inBand === undefined || isObject(value.inBand?.messages))) return value as DiscoveryDocument
  throw new WsAuthClientError('discovery', `${source}: not a wsauth discovery document of version 1`)
}

// A Fastify URL pattern against a path: `:name` (with or without a regular expression) matches one segment, a
// trailing `*` the rest.
function matches (pattern: string, path: string): boolean {
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1))
  const want = pattern.split('/')
  const have = path.split('/')
  return want.length === have.length && want.every((segment, index) => segment === have[index] || (segment[0] === ':' && have[index] !== ''))
}

/** The route of `path`: an exact match first, then a pattern. */
export function findRoute (document: DiscoveryDocument, path: string): DiscoveryRoute | undefined {
  return document.routes.find((route) => route.path === path) ?? document.routes.find((route) => matches(route.path, path))
}

/**
 * The document: `given` as is when it is one, else fetched from `given` (default `/.well-known/wsauth`) on `origin`. A
 * 5xx is `unreachable` (retried); a missing or malformed document is a `discovery` error (the client stops).
 */
export async function discover (request: Request, given: string | URL | DiscoveryDocument | undefined, origin: string): Promise<DiscoveryDocument> {
  if (typeof given === 'object' && !(given instanceof URL)) return readDiscovery(given, 'the discovery option')
  const url = new URL(given ?? '/.well-known/wsauth', origin)
  const { response, body } = await request(url, { headers: { accept: 'application/json' } })
  if (!response.ok) {
    throw new WsAuthClientError(response.status >= 500 ? 'unreachable' : 'discovery', `${url.href} answered ${response.status}`)
  }
  let document: unknown
  try {
    document = JSON.parse(body)
  } catch {
    throw new WsAuthClientError('discovery', `${url.href}: not JSON`)
  }
  return readDiscovery(document, url.href)
}
