import { MemoryRevocationBus, type RevocationBus } from './bus.js'
import { MemoryRefreshTokenStore, type RefreshTokenStore } from './refresh-tokens.js'
import { MemorySingleUseStore, type SingleUseStore } from './single-use.js'
import { MemoryDenyList, MemoryFailureCounter, type Clock, type DenyList, type FailureCounter } from './stores.js'

/** A failure counter's window: `limit` failures per `windowMs` milliseconds. */
export interface FailureWindow {
  limit: number
  windowMs: number
}

/**
 * Every piece of state the wsauth packages share, in one object: the guard takes it (`stores`), and the other
 * packages take theirs from the guard. `memoryStores()` is the default for one process; `@wsauth/redis` makes one
 * for many nodes.
 */
export interface WsAuthStores {
  denyList: DenyList
  refreshTokens: RefreshTokenStore
  /** A failure counter under its own `name` (say `login-username`): two names never share a count. */
  failureCounter (name: string, window: FailureWindow): FailureCounter
  /** A single-use store under its own `namespace` (say `oauth2-login-codes`): two namespaces never share a key. */
  singleUse<T> (namespace: string): SingleUseStore<T>
  bus: RevocationBus
}

/** The stores of one process, in memory. */
export function memoryStores (options: { now?: Clock } = {}): WsAuthStores {
  const now = options.now ?? Date.now
  return {
    denyList: new MemoryDenyList({ now }),
    refreshTokens: new MemoryRefreshTokenStore({ now }),
    failureCounter: (_name, window) => new MemoryFailureCounter({ ...window, now }),
    singleUse: () => new MemorySingleUseStore({ now }),
    bus: new MemoryRevocationBus(),
  }
}

/** Whether `value` has the shape of a stores bundle (for option checks). */
export function isWsAuthStores (value: unknown): value is WsAuthStores {
  if (typeof value !== 'object' || value === null) return false
  const stores = value as Partial<Record<keyof WsAuthStores, unknown>>
  return typeof stores.failureCounter === 'function' && typeof stores.singleUse === 'function' &&
    typeof (stores.denyList as Partial<DenyList> | undefined)?.has === 'function' &&
    typeof (stores.refreshTokens as Partial<RefreshTokenStore> | undefined)?.rotate === 'function' &&
    typeof (stores.bus as Partial<RevocationBus> | undefined)?.publish === 'function'
}
