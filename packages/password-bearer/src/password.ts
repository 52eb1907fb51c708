import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/** scrypt cost parameters: CPU/memory cost `N` (a power of two), block size `r`, parallelism `p`. */
export interface ScryptParams {
  N: number
  r: number
  p: number
}

/** About 16 MiB and tens of milliseconds per hash: memory-hard enough to make offline guessing expensive. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 16384, r: 8, p: 1 })

const SALT_BYTES = 16
const KEY_BYTES = 32
const PREFIX = 'scrypt'
const BASE64URL = /^[A-Za-z0-9_-]+$/
const DECIMAL = /^[1-9][0-9]*$/

/**
 * What is wrong with scrypt parameters, or `null`: bounds that keep one hash under 1 GiB of memory, whether the
 * parameters come from options or a stored hash.
 */
export function scryptParamsProblem ({ N, r, p }: ScryptParams): { name: keyof ScryptParams, problem: string } | null {
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0) return { name: 'N', problem: 'must be a power of two from 2 to 2^20' }
  if (!Number.isInteger(r) || r < 1 || r > 32) return { name: 'r', problem: 'must be an integer from 1 to 32' }
  if (!Number.isInteger(p) || p < 1 || p > 16) return { name: 'p', problem: 'must be an integer from 1 to 16' }
  return null
}

function checkParams (params: ScryptParams): void {
  const wrong = scryptParamsProblem(params)
  if (wrong !== null) throw new TypeError(`scrypt ${wrong.name} ${wrong.problem}`)
}

function derive (password: string, salt: Buffer, length: number, { N, r, p }: ScryptParams): Promise<Buffer> {
  // The async scrypt runs on libuv's thread pool, so hashing never blocks the event loop.
  return new Promise((resolve, reject) => {
    // maxmem is exactly what OpenSSL needs for these parameters (Node's default, 32 MiB, caps N·r).
    const maxmem = 128 * r * (N + p + 2)
    // NFC: the same password typed with composed or decomposed characters is the same password.
    scrypt(password.normalize('NFC'), salt, length, { N, r, p, maxmem }, (error, key) => {
      if (error === null) resolve(key)
      else reject(error)
    })
  })
}

/** Hashes a password with a random 16-byte salt into `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashPassword (password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  if (typeof password !== 'string') throw new TypeError('password must be a string')
  checkParams(params)
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, KEY_BYTES, params)
  return [PREFIX, params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

function decode (encoded: string): { params: ScryptParams, salt: Buffer, key: Buffer } {
  const parts = typeof encoded === 'string' ? encoded.split('$') : []
  if (parts.length !== 6 || parts[0] !== PREFIX || !parts.slice(1, 4).every((part) => DECIMAL.test(part)) ||
    !parts.slice(4).every((part) => BASE64URL.test(part))) {
    throw new TypeError('not an encoded scrypt hash')
  }
  const params = { N: Number(parts[1]), r: Number(parts[2]), p: Number(parts[3]) }
  checkParams(params)
  const salt = Buffer.from(parts[4]!, 'base64url')
  const key = Buffer.from(parts[5]!, 'base64url')
  if (salt.length < 8 || key.length < 16) throw new TypeError('not an encoded scrypt hash')
  return { params, salt, key }
}

/**
 * Checks a password against a hash from `hashPassword`, with the parameters the hash names, in constant time.
 * A hash that is not in that format throws: it is a bug in the user store, not a wrong password.
 */
export async function verifyPassword (password: string, encoded: string): Promise<boolean> {
  if (typeof password !== 'string') throw new TypeError('password must be a string')
  const { params, salt, key } = decode(encoded)
  const candidate = await derive(password, salt, key.length, params)
  return timingSafeEqual(candidate, key)
}
