import type { FastifyInstance } from 'fastify'
import {
  OUTCOMES, type DiscoveryDocument, type DiscoveryEndpoints, type DiscoveryInBand, type DiscoveryRoute, type DiscoveryTransports,
} from '@wsauth/core'
import type { Extractor } from './options.js'

/** Where the guard serves the discovery document unless `discovery: { path }` says otherwise. */
export const DISCOVERY_PATH = '/.well-known/wsauth'

/** A guarded route as the document lists it, before its transports describe themselves on it. */
export type DescribedRoute = Omit<DiscoveryRoute, 'transports'>

/** A plugin's part of the discovery document, handed to the guard with `fastify.wsAuth.addDiscovery`. */
export interface DiscoveryPart {
  /** The endpoints the plugin serves, as paths on this server (its prefix included). */
  endpoints?: DiscoveryEndpoints
  /**
   * The application subprotocols of guarded routes that declare none in `config.wsAuth.protocols`
   * (@wsauth/subprotocol-token's `protocols`).
   */
  protocols?: readonly string[]
}

/** A guarded route's settings, as the guard resolved them when the route was added. */
export interface ListedRoute {
  path: string
  mode: 'http' | 'close'
  /** The route's own `config.wsAuth.protocols`; `undefined` takes the default a plugin gave. */
  protocols: readonly string[] | undefined
  firstMessage: boolean
  refresh: boolean
}

/**
 * What the document will say, collected while the app registers its plugins and routes, and built once when the
 * server is ready: every transport's extractor describes itself on every guarded route then, so the document is a
 * fixed string by the time anyone asks for it. It holds nothing secret: no origins, no keys, no users.
 */
export class DiscoveryCollector {
  readonly #routes: ListedRoute[] = []
  readonly #endpoints: DiscoveryEndpoints = {}
  #protocols: readonly string[] = []
  #built = false

  addRoute (route: ListedRoute): void {
    this.#routes.push(route)
  }

  add (part: DiscoveryPart): void {
    // Too late to be in the document, which would then silently lack it.
    if (this.#built) throw new Error('@wsauth/ws-bearer: addDiscovery after the server is ready')
    Object.assign(this.#endpoints, part.endpoints)
    if (part.protocols !== undefined) this.#protocols = [...part.protocols]
  }

  build (extractors: readonly Extractor[], inBand: DiscoveryInBand | null): DiscoveryDocument {
    this.#built = true
    const routes = this.#routes.map(({ protocols, ...route }): DiscoveryRoute => {
      const described: DescribedRoute = { ...route, protocols: [...(protocols ?? this.#protocols)] }
      const transports: DiscoveryTransports = {}
      for (const extractor of extractors) Object.assign(transports, extractor.describe?.(described))
      return { ...described, transports }
    })
    return {
      wsauth: 1,
      endpoints: { ...this.#endpoints },
      ...(inBand === null ? {} : { inBand }),
      closeCodes: Object.entries(OUTCOMES).map(([outcome, rule]) => ({ outcome, code: rule.closeCode, reason: rule.reason })),
      routes,
    }
  }
}

/**
 * `GET <path>`: the document, built when the server is ready. Pages on other origins read it (CORS), since nothing in
 * it is secret; `no-cache`, so a client sees a changed deployment at its next connection.
 */
export function serveDiscovery (fastify: FastifyInstance, path: string, build: () => DiscoveryDocument): void {
  let body = ''
  fastify.addHook('onReady', async function buildDiscovery () {
    body = JSON.stringify(build())
  })
  fastify.get(path, function discovery (_request, reply) {
    reply
      .type('application/json; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('access-control-allow-origin', '*')
      .header('x-content-type-options', 'nosniff')
      .send(body)
  })
}
