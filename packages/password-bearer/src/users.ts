import { DEFAULT_SCRYPT_PARAMS, hashPassword, type ScryptParams } from './password.js'
import { checkScopes } from './scope.js'

/** A user as the password grant sees it. */
export interface UserRecord {
  username: string
  /** An encoded hash from `hashPassword`. */
  passwordHash: string
  /** Scopes the user may be granted; none when absent. */
  scopes?: string[]
  /** A disabled user can neither log in nor refresh. */
  disabled?: boolean
}

/** Where users live. Implement it over a database; `MemoryUserStore` is for tests and small embedded apps. */
export interface UserStore {
  findByUsername (username: string): Promise<UserRecord | null>
}

export interface MemoryUserStoreOptions {
  /** scrypt parameters for `add`. Give the plugin the same ones, so unknown users cost what known users cost. */
  scrypt?: ScryptParams
}

export class MemoryUserStore implements UserStore {
  readonly #users = new Map<string, UserRecord & { scopes: string[] }>()
  readonly #scrypt: ScryptParams

  constructor (options: MemoryUserStoreOptions = {}) {
    this.#scrypt = options.scrypt ?? DEFAULT_SCRYPT_PARAMS
  }

  /** Hashes the password and adds the user, replacing one of the same name. */
  async add (username: string, password: string, options: { scopes?: string[], disabled?: boolean } = {}): Promise<void> {
    if (typeof username !== 'string' || username === '') throw new TypeError('username must be a non-empty string')
    const scopes = checkScopes(options.scopes ?? [], 'scopes')
    const passwordHash = await hashPassword(password, this.#scrypt)
    this.#users.set(username, { username, passwordHash, scopes, disabled: options.disabled === true })
  }

  async findByUsername (username: string): Promise<UserRecord | null> {
    const user = this.#users.get(username)
    // A copy: callers cannot change the stored user by mutating what they were given.
    return user === undefined ? null : { ...user, scopes: [...user.scopes] }
  }
}
