import { randomBytes } from 'node:crypto'
import { MemoryUserStore } from '@wsauth/password-bearer'
import type { IdTokenClaims } from '@wsauth/oauth2-login'
import { CHAT_SCOPE } from './rooms.js'

export const DEMO_USERS = [
  { username: 'johndoe', password: 'secret', scopes: ['chat', 'admin'] },
  { username: 'janedoe', password: 'secret2', scopes: ['chat'] },
] as const

/** The chat's users: the demo users, and people who signed in with the provider (added at their first sign-in). */
export async function chatUsers (): Promise<MemoryUserStore> {
  const users = new MemoryUserStore()
  for (const user of DEMO_USERS) await users.add(user.username, user.password, { scopes: [...user.scopes] })
  return users
}

/**
 * Who signed in with the provider, as a chat user: their `preferred_username`, with the `chat` scope. They become a
 * user of the store so that their refresh token works (password-bearer checks each refresh against the store), with a
 * password nobody knows. A provider name that is a demo user's is refused: the provider can't sign anyone in as them.
 */
export function providerUser (users: MemoryUserStore) {
  return async (claims: IdTokenClaims): Promise<{ subject: string, scopes: string[] } | null> => {
    const name = typeof claims.preferred_username === 'string' && claims.preferred_username !== '' ? claims.preferred_username : claims.sub
    if (typeof name !== 'string' || DEMO_USERS.some((user) => user.username === name)) return null
    if (await users.findByUsername(name) === null) {
      await users.add(name, randomBytes(32).toString('base64url'), { scopes: [CHAT_SCOPE] })
    }
    return { subject: name, scopes: [CHAT_SCOPE] }
  }
}
