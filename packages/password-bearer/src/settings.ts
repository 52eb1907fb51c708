import { readOptions, type Clock, type FailureCounter, type OptionsReader, type RefreshTokenStore, type WsAuthStores } from '@wsauth/core'
import { ClientRegistry, type ClientConfig } from './clients.js'
import { DEFAULT_SCRYPT_PARAMS, scryptParamsProblem, type ScryptParams } from './password.js'
import type { UserStore } from './users.js'

const PLUGIN = '@wsauth/password-bearer'
const FIFTEEN_MINUTES = 15 * 60 * 1000

/** The plugin's options, checked and with their defaults. */
export interface Settings {
  users: UserStore
  clients: ClientRegistry | null
  accessTokenTtl: number
  refreshTokenTtl: number
  accessTokensPerFamily: number
  refreshTokens: RefreshTokenStore
  throttle: { username: FailureCounter, ip: FailureCounter, refreshIp: FailureCounter, refreshClient: FailureCounter }
  tokenPath: string
  revokePath: string
  bodyLimit: number
  realm: string
  scrypt: ScryptParams
  jwtNamespace: string | undefined
  clock: Clock
}

/** An object with the named methods: a store given in the options, checked by its shape. */
function implementation<T> (reader: OptionsReader, name: string, kind: string, methods: readonly string[]): T | undefined {
  const value = reader.raw(name)
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || !methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')) {
    throw reader.error(name, `must be a ${kind} (an object with ${methods.join(', ')})`)
  }
  return value as T
}

function failureCounter (reader: OptionsReader | undefined, stores: WsAuthStores, name: string, limit: number): FailureCounter {
  return (reader === undefined ? undefined : implementation<FailureCounter>(reader, name, 'FailureCounter', ['attempt', 'forgive', 'reset'])) ??
    stores.failureCounter(`password-bearer:${name}`, { limit, windowMs: FIFTEEN_MINUTES })
}

function readScrypt (reader: OptionsReader): ScryptParams {
  const nested = reader.nested('scrypt', ['N', 'r', 'p'])
  if (nested === undefined) return DEFAULT_SCRYPT_PARAMS
  const params = { N: nested.raw('N'), r: nested.raw('r'), p: nested.raw('p') } as ScryptParams
  const wrong = scryptParamsProblem(params)
  if (wrong !== null) throw nested.error(wrong.name, wrong.problem)
  return params
}

/** The options, with the stores they don't name taken from `stores` (the guard's). */
export function readSettings (options: unknown, stores: WsAuthStores): Settings {
  const reader = readOptions(PLUGIN, options, [
    'users', 'clients', 'accessTokenTtl', 'refreshTokenTtl', 'accessTokensPerFamily', 'refreshTokens', 'throttle',
    'tokenPath', 'revokePath', 'bodyLimit', 'realm', 'scrypt', 'jwtNamespace', 'clock',
  ])
  const users = implementation<UserStore>(reader, 'users', 'UserStore', ['findByUsername'])
  if (users === undefined) throw reader.error('users', 'is required: a UserStore (an object with findByUsername)')
  const clientsProblem = reader.has('clients') ? ClientRegistry.problem(reader.raw('clients')) : null
  if (clientsProblem !== null) throw reader.error('clients', clientsProblem)
  const throttle = reader.nested('throttle', ['username', 'ip', 'refreshIp', 'refreshClient'])
  const tokenPath = reader.path('tokenPath', '/token')
  const revokePath = reader.path('revokePath', '/revoke')
  if (tokenPath === revokePath) throw reader.error('revokePath', 'must differ from tokenPath')
  return {
    users,
    clients: reader.has('clients') ? new ClientRegistry(reader.raw('clients') as ClientConfig[]) : null,
    accessTokenTtl: reader.integer('accessTokenTtl', 900),
    refreshTokenTtl: reader.integer('refreshTokenTtl', 14 * 24 * 60 * 60),
    // A family's record grows with this; a thousand is far past any client's need.
    accessTokensPerFamily: reader.integer('accessTokensPerFamily', 16, { max: 1000 }),
    refreshTokens: implementation<RefreshTokenStore>(reader, 'refreshTokens', 'RefreshTokenStore', ['create', 'find', 'rotate', 'delete']) ??
      stores.refreshTokens,
    throttle: {
      username: failureCounter(throttle, stores, 'username', 5),
      ip: failureCounter(throttle, stores, 'ip', 20),
      refreshIp: failureCounter(throttle, stores, 'refreshIp', 20),
      refreshClient: failureCounter(throttle, stores, 'refreshClient', 100),
    },
    tokenPath,
    revokePath,
    bodyLimit: reader.integer('bodyLimit', 16 * 1024),
    realm: reader.string('realm', 'wsauth'),
    scrypt: readScrypt(reader),
    jwtNamespace: reader.string('jwtNamespace'),
    clock: reader.function<Clock>('clock') ?? Date.now,
  }
}
