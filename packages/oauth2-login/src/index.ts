import plugin from './plugin.js'

export default plugin
export { plugin as oauth2Login }
export type { IdTokenClaims, OAuth2LoginOptions } from './options.js'
export type { PendingSignIn, SignedIn } from './login-codes.js'
export { LOGIN_FAILURES, LoginError, type LoginFailure, type LoginFailureAnswer } from './errors.js'
export { CODE_STORAGE_KEY } from './pages.js'
