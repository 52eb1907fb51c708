import type { DiscoveryDocument, DiscoveryRoute } from '@wsauth/core'
import { WsAuthClientError } from './errors.js'

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
