import type { ClientMetadata } from 'oidc-provider'

/** The path the examples receive the provider's answer on (@wsauth/oauth2-login's default). */
export const CALLBACK_PATH = '/login/oidc/callback'

/** The examples' browser apps, by client id, with the ports they listen on by default. */
export const EXAMPLE_APPS: Record<string, { name: string, ports: number[] }> = {
  'secured-echo': { name: 'secured echo', ports: [8000] },
  'secured-chat': { name: 'secured chat', ports: [8000, 8001] },
}

/** A machine client for API access tokens (`client_credentials`), for trying the guard with this provider's tokens. */
export const MACHINE_CLIENT = { id: 'dev-machine', secret: 'dev-machine-secret' }

/** The resource indicator of the examples' chat API: its JWT access tokens carry the `chat` scope. */
export const CHAT_API = 'urn:wsauth:chat'

/**
 * The examples' clients. Browser apps are public clients (PKCE, no secret) registered as loopback clients (RFC 8252
 * §7.3): the provider accepts their redirect URI on 127.0.0.1, [::1] and localhost at ANY port, so an example moved
 * with PORT signs in without registering anything.
 */
export function exampleClients (): ClientMetadata[] {
  const apps = Object.entries(EXAMPLE_APPS).map(([clientId, app]): ClientMetadata => ({
    client_id: clientId,
    client_name: app.name,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: app.ports.flatMap((port) => [`http://127.0.0.1:${port}${CALLBACK_PATH}`, `http://localhost:${port}${CALLBACK_PATH}`]),
  }))
  return [...apps, {
    client_id: MACHINE_CLIENT.id,
    client_secret: MACHINE_CLIENT.secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'chat',
  }]
}
