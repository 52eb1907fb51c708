import type { FastifyRequest } from 'fastify'
import type { FailureCounter } from '@wsauth/core'
import { OAuthError, fromStore } from './errors.js'
import type { TokenResponse } from './options.js'
import { requiredParam, scopeParam, type Params } from './params.js'
import { verifyPassword } from './password.js'
import { isSubset } from './scope.js'
import { countAttempt } from './throttle.js'
import type { TokenIssuer } from './tokens.js'
import type { UserRecord, UserStore } from './users.js'

const MAX_USERNAME_LENGTH = 256

export interface PasswordLoginOptions {
  users: UserStore
  /** Failed logins per username, and per client IP. */
  usernameFailures: FailureCounter
  ipFailures: FailureCounter
  /** A hash of a password nobody knows, with the parameters real users' hashes have: what unknown users cost. */
  dummyHash: string
  tokens: TokenIssuer
}

/** The password grant (RFC 6749 §4.3), and the password check the guard's Basic verifier shares with it. */
export class PasswordLogin {
  readonly #options: PasswordLoginOptions

  constructor (options: PasswordLoginOptions) {
    this.#options = options
  }

  /**
   * Checks a username and password: throttled per username and per IP, and an unknown user costs what a wrong
   * password costs. Resolves the user, or `null` when the credentials are wrong.
   */
  async checkPassword (username: string, password: string, ip: string): Promise<UserRecord | null> {
    const { users, usernameFailures, ipFailures, dummyHash } = this.#options
    const userKey = { counter: usernameFailures, key: `user:${username}` }
    const ipKey = { counter: ipFailures, key: `ip:${ip}` }
    // Counted before any hashing: a blocked guesser costs no scrypt work.
    await countAttempt([userKey, ipKey], 'too many failed logins')
    const user = await fromStore(() => users.findByUsername(username))
    // An unknown user is checked against the dummy hash: the same work, so the same answer in the same time.
    const matches = await verifyPassword(password, user?.passwordHash ?? dummyHash)
    if (user === null || user.disabled === true || !matches) return null
    // The username's count starts again; the IP only gets this attempt back, not the failures it piled up against
    // other usernames.
    await fromStore(() => Promise.all([usernameFailures.reset(userKey.key), ipFailures.forgive(ipKey.key)]))
    return user
  }

  async grant (request: FastifyRequest, params: Params, clientId: string | null): Promise<TokenResponse> {
    const username = requiredParam(params, 'username')
    // Usernames key the throttle's memory: a longer one is no user's, and only costs the server.
    if (username.length > MAX_USERNAME_LENGTH) throw new OAuthError('invalid_request', 'username too long')
    const password = requiredParam(params, 'password')
    const requested = scopeParam(params)
    const user = await this.checkPassword(username, password, request.ip)
    if (user === null) throw new OAuthError('invalid_grant', 'invalid username or password')
    const userScopes = user.scopes ?? []
    if (requested !== undefined && !isSubset(requested, userScopes)) throw new OAuthError('invalid_scope', 'scope not granted')
    const scopes = requested ?? userScopes
    return await this.#options.tokens.startFamily({ subject: user.username, scopes, clientId }, scopes)
  }
}
