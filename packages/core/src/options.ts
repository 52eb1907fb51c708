/**
 * Startup checks of a plugin's options, with one error style across the packages: the message names the plugin and
 * the option (`@wsauth/ws-bearer: option "mode" must be one of "http", "close"`). A value is quoted back only when it
 * cannot be a secret (a number, a boolean, or a string that had to be one of a few fixed words).
 */

/** A plugin was registered with an option it does not know, or with a value of the wrong kind. */
export class WsAuthOptionsError extends TypeError {
  readonly code = 'ERR_WSAUTH_OPTIONS'

  constructor (plugin: string, option: string, problem: string) {
    super(`${plugin}: option "${option}" ${problem}`)
    this.name = 'WsAuthOptionsError'
  }
}

// Fastify's own register options travel in the same object as the plugin's.
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers']

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return `a ${typeof value}`
}

export interface IntegerOptions {
  min?: number
  max?: number
}

/** Reads one options object: `readOptions` checks its keys, then each getter checks one option's value. */
export class OptionsReader {
  readonly #plugin: string
  readonly #prefix: string
  readonly #options: Readonly<Record<string, unknown>>

  constructor (plugin: string, options: Readonly<Record<string, unknown>>, prefix = '') {
    this.#plugin = plugin
    this.#options = options
    this.#prefix = prefix
  }

  /** Whether the option was given (not `undefined`). */
  has (name: string): boolean {
    return this.#options[name] !== undefined
  }

  /** The value as given, for options the plugin checks itself (functions of a given shape, stores). */
  raw (name: string): unknown {
    return this.#options[name]
  }

  /** An error naming this option, for checks the getters do not cover. */
  error (name: string, problem: string): WsAuthOptionsError {
    return new WsAuthOptionsError(this.#plugin, this.#prefix + name, problem)
  }

  integer (name: string, fallback: number, bounds?: IntegerOptions): number
  integer (name: string, fallback?: undefined, bounds?: IntegerOptions): number | undefined
  integer (name: string, fallback?: number, { min = 1, max = Number.MAX_SAFE_INTEGER }: IntegerOptions = {}): number | undefined {
    const value = this.#options[name]
    if (value === undefined) return fallback
    if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
      throw this.error(name, `must be an integer ${range}; got ${describe(value)}`)
    }
    return value as number
  }

  boolean (name: string, fallback: boolean): boolean {
    const value = this.#options[name]
    if (value === undefined) return fallback
    if (typeof value !== 'boolean') throw this.error(name, `must be true or false; got ${describe(value)}`)
    return value
  }

  string (name: string, fallback: string): string
  string (name: string, fallback?: undefined): string | undefined
  string (name: string, fallback?: string): string | undefined {
    const value = this.#options[name]
    if (value === undefined) return fallback
    if (typeof value !== 'string' || value === '') throw this.error(name, `must be a non-empty string; got ${describe(value)}`)
    return value
  }

  /** A route path: starts with `/`, no query or fragment. */
  path (name: string, fallback: string): string {
    const value = this.string(name, fallback)
    if (!value.startsWith('/') || /[?#\s]/.test(value)) throw this.error(name, 'must be a path starting with "/" (no query, fragment or space)')
    return value
  }

  oneOf<T extends string | number | boolean> (name: string, values: readonly T[], fallback: T): T
  oneOf<T extends string | number | boolean> (name: string, values: readonly T[], fallback?: undefined): T | undefined
  oneOf<T extends string | number | boolean> (name: string, values: readonly T[], fallback?: T): T | undefined {
    const value = this.#options[name]
    if (value === undefined) return fallback
    if (!values.includes(value as T)) {
      const shown = typeof value === 'string' && values.some((allowed) => typeof allowed === 'string') && value.length <= 32
        ? JSON.stringify(value)
        : describe(value)
      throw this.error(name, `must be one of ${values.map((allowed) => JSON.stringify(allowed)).join(', ')}; got ${shown}`)
    }
    return value as T
  }

  /** An array of non-empty strings (never a single string: `origins: 'https://a'` is a mistake, not a list of one). */
  stringList (name: string): string[] | undefined {
    const value = this.#options[name]
    if (value === undefined) return undefined
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
      throw this.error(name, `must be an array of non-empty strings; got ${describe(value)}`)
    }
    return [...value] as string[]
  }

  function<F extends (...args: never[]) => unknown> (name: string): F | undefined {
    const value = this.#options[name]
    if (value === undefined) return undefined
    if (typeof value !== 'function') throw this.error(name, `must be a function; got ${describe(value)}`)
    return value as F
  }

  /** A nested options object, checked like the top level; its errors name `parent.child`. */
  nested (name: string, known: readonly string[]): OptionsReader | undefined {
    const value = this.#options[name]
    if (value === undefined) return undefined
    return readOptions(this.#plugin, value, known, `${this.#prefix}${name}.`)
  }
}

/**
 * Checks that `options` is a plain object with no key outside `known` (Fastify's register options aside), and returns
 * a reader for its values.
 */
export function readOptions (plugin: string, options: unknown, known: readonly string[], prefix = ''): OptionsReader {
  const value = options ?? {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new WsAuthOptionsError(plugin, prefix === '' ? 'options' : prefix.slice(0, -1), `must be an object; got ${describe(value)}`)
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key) && (prefix !== '' || !REGISTER_OPTIONS.includes(key))) {
      throw new WsAuthOptionsError(plugin, prefix + key, `is not an option of ${plugin}`)
    }
  }
  return new OptionsReader(plugin, value as Record<string, unknown>, prefix)
}
