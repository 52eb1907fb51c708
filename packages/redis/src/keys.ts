/**
 * Key names under the app's prefix. Every script and every command touches one key, so each works on a cluster as
 * it is: no two keys ever need to share a slot.
 */
export class Keys {
  readonly #prefix: string

  constructor (prefix: string) {
    this.#prefix = prefix
  }

  /** The sorted set of revoked token ids, scored by expiry. */
  get denyList (): string {
    return `${this.#prefix}denylist`
  }

  /** The pub/sub channel of revocations and denylist entries. */
  get channel (): string {
    return `${this.#prefix}revocations`
  }

  failures (name: string, key: string): string {
    return `${this.#prefix}failures:${name}:${key}`
  }

  family (familyId: string): string {
    return `${this.#prefix}family:${familyId}`
  }

  singleUse (namespace: string, key: string): string {
    return `${this.#prefix}once:${namespace}:${key}`
  }
}
