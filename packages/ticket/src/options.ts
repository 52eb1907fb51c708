import { readOptions, type FailureCounter, type OptionsReader, type WsAuthStores } from '@wsauth/core'
import type { TicketStore } from './grant.js'

export interface TicketOptions {
  /** Where tickets are minted (`POST`), under the plugin's prefix. Default `/ws-ticket`. */
  path?: string
  /** How long a ticket lives, in seconds, at most 300 (and never past its token's `exp`). Default 30. */
  lifetime?: number
  /**
   * Where tickets wait to be redeemed: a `SingleUseStore` whose `take` is atomic across every node that redeems them
   * (@wsauth/redis for many nodes). Default: the guard's stores (`singleUse('ticket')`): in memory on the guard's
   * clock, or on Redis when the guard's stores are.
   */
  store?: TicketStore
  /**
   * Tickets a subject may mint per window; over it, `POST` answers 429 with `Retry-After`. Default
   * `{ max: 60, windowSeconds: 60 }`; `false` mints without a limit.
   */
  rateLimit?: false | { max?: number, windowSeconds?: number }
  /** Counts the mints per subject instead of the guard's stores' counter built from `rateLimit`. */
  counter?: FailureCounter
  /** Realm in the endpoint's `WWW-Authenticate`. Default `wsauth`, as the guard's. */
  realm?: string
}

export const PLUGIN = '@wsauth/ticket'
export const DEFAULT_PATH = '/ws-ticket'
export const DEFAULT_LIFETIME = 30
export const MAX_LIFETIME = 300
export const DEFAULT_RATE_LIMIT = Object.freeze({ max: 60, windowSeconds: 60 })

export interface TicketSettings {
  path: string
  lifetimeMs: number
  store: TicketStore
  /** `null`: no limit. */
  counter: FailureCounter | null
  realm: string
}

function storeOption (read: OptionsReader, stores: WsAuthStores): TicketStore {
  const store = read.raw('store') as Partial<TicketStore> | undefined
  if (store === undefined) return stores.singleUse('ticket')
  if (typeof store?.put !== 'function' || typeof store.take !== 'function') throw read.error('store', 'must be a SingleUseStore (put and take)')
  return store as TicketStore
}

function counterOption (read: OptionsReader, stores: WsAuthStores): FailureCounter | null {
  const counter = read.raw('counter') as Partial<FailureCounter> | undefined
  const rateLimit = read.raw('rateLimit')
  if (counter !== undefined) {
    if (typeof counter?.attempt !== 'function') throw read.error('counter', 'must be a FailureCounter (attempt)')
    if (rateLimit !== undefined) throw read.error('rateLimit', 'must be left out with `counter`, which has its own limit and window')
    return counter as FailureCounter
  }
  if (rateLimit === false) return null
  if (rateLimit !== undefined && (typeof rateLimit !== 'object' || rateLimit === null || Array.isArray(rateLimit))) {
    throw read.error('rateLimit', 'must be false or { max, windowSeconds }')
  }
  const limit = read.nested('rateLimit', ['max', 'windowSeconds'])
  return stores.failureCounter('ticket:mints', {
    limit: limit?.integer('max', DEFAULT_RATE_LIMIT.max) ?? DEFAULT_RATE_LIMIT.max,
    windowMs: (limit?.integer('windowSeconds', DEFAULT_RATE_LIMIT.windowSeconds) ?? DEFAULT_RATE_LIMIT.windowSeconds) * 1000,
  })
}

/** The plugin's options, checked at registration: a wrong name, kind or a lifetime over 5 minutes is a startup error. */
export function readTicketOptions (options: unknown, stores: WsAuthStores): TicketSettings {
  const read = readOptions(PLUGIN, options, ['path', 'lifetime', 'store', 'rateLimit', 'counter', 'realm'])
  return {
    path: read.path('path', DEFAULT_PATH),
    lifetimeMs: read.integer('lifetime', DEFAULT_LIFETIME, { min: 1, max: MAX_LIFETIME }) * 1000,
    store: storeOption(read, stores),
    counter: counterOption(read, stores),
    realm: read.string('realm', 'wsauth'),
  }
}
