import plugin from './plugin.js'
import type { PasswordBearer } from './options.js'

declare module 'fastify' {
  interface FastifyInstance {
    passwordBearer: PasswordBearer
  }
}

export default plugin
export { plugin as passwordBearer }
export type { PasswordBearer, PasswordBearerOptions, ThrottleOptions, TokenResponse } from './options.js'
export type { ClientConfig } from './clients.js'
export { OAuthError, type OAuthErrorCode } from './errors.js'
export type { GrantContext, GrantHandler, GrantResult } from './grants.js'
export { DEFAULT_SCRYPT_PARAMS, hashPassword, verifyPassword, type ScryptParams } from './password.js'
export { MemoryUserStore, type MemoryUserStoreOptions, type UserRecord, type UserStore } from './users.js'
// The store's interface lives in @wsauth/core with the other shared-state interfaces; re-exported where it is used.
export {
  MemoryRefreshTokenStore,
  type IssuedAccessToken, type RefreshTokenFamily, type RefreshTokenRotation, type RefreshTokenStore,
} from '@wsauth/core'
