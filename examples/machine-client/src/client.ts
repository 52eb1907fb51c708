import WebSocket from 'ws'
import { connect, type TokenReason, type WsAuthClientError } from '@wsauth/client'
import { encodeBasic } from '@wsauth/core'

export interface MachineClientOptions {
  /** secured-echo's HTTP origin, e.g. `http://127.0.0.1:8000`. */
  baseUrl: string
  username: string
  password: string
  message?: string
}

/** One conversation on `/secured-ws`: the welcome and the echo of one message. */
export interface Conversation {
  transport: string
  welcome: string
  echo: string
}

export interface Tokens {
  accessToken: string
  refreshToken: string
}

/** The cause's code (`ECONNREFUSED`) or message: what `fetch failed` hides. */
function why (error: unknown): string {
  const cause = (error as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}

/** POST /token, form-encoded (RFC 6749 §4.3 and §6). Names the URL when nothing answers there. */
async function tokenRequest (baseUrl: string, params: Record<string, string>): Promise<Tokens> {
  const url = new URL('/token', baseUrl)
  let response: Response
  try {
    response = await fetch(url, { method: 'POST', body: new URLSearchParams(params) })
  } catch (error) {
    throw new Error(`cannot reach ${url.href} (${why(error)})`)
  }
  const body = await response.json() as { access_token?: string, refresh_token?: string, error?: string }
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new Error(`login failed: ${response.status} ${body.error ?? ''}`.trim())
  }
  return { accessToken: body.access_token, refreshToken: body.refresh_token ?? '' }
}

/** The password grant: an access token and a refresh token. */
export function login (baseUrl: string, username: string, password: string): Promise<Tokens> {
  return tokenRequest(baseUrl, { grant_type: 'password', username, password })
}

/**
 * A conversation through @wsauth/client: it reads secured-echo's discovery document, picks the Authorization header
 * (Node can set one), and asks for a fresh token on every attempt: the one from login first, then the refresh grant's.
 * The message is sent at once: the client holds it until the server has accepted the token. Gives up after three
 * failed attempts, naming the URL it could not reach.
 */
export function converseWithClient (baseUrl: string, tokens: Tokens, message: string): Promise<{ transport: string, welcome: string, echo: string }> {
  const url = new URL('/secured-ws', baseUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  let unused: string | null = tokens.accessToken
  let refreshToken = tokens.refreshToken
  const getToken = async ({ reason }: { reason: TokenReason }): Promise<string> => {
    if (reason === 'connect' && unused !== null) {
      const token = unused
      unused = null
      return token
    }
    const next = await tokenRequest(baseUrl, { grant_type: 'refresh_token', refresh_token: refreshToken })
    refreshToken = next.refreshToken
    return next.accessToken
  }
  const client = connect(url, { getToken, WebSocket, backoff: { attempts: 3 } })
  client.send(message)
  return new Promise((resolve, reject) => {
    const received: string[] = []
    let lastError: WsAuthClientError | null = null
    client.addEventListener('error', (event) => { lastError = event.error })
    client.addEventListener('message', (event) => {
      received.push(String(event.data))
      if (received.length === 2) client.close()
    })
    client.addEventListener('close', (event) => {
      if (received.length === 2) resolve({ transport: client.transport!, welcome: received[0]!, echo: received[1]! })
      else reject(new Error(lastError?.message ?? `${url.href}: closed with ${event.code} (${event.reason})`))
    })
  })
}

/** Opens `/secured-ws` with the given Authorization header, reads the welcome, sends one message, reads the echo. */
export function converse (baseUrl: string, authorization: string, message: string): Promise<{ welcome: string, echo: string }> {
  const url = new URL('/secured-ws', baseUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization } })
    const received: string[] = []
    socket.on('unexpected-response', (_request, response) => {
      socket.terminate()
      reject(new Error(`handshake refused: ${response.statusCode}`))
    })
    socket.on('message', (data) => {
      received.push(String(data))
      if (received.length === 1) socket.send(message)
      else socket.close(1000)
    })
    socket.on('close', (code) => {
      if (received.length === 2) resolve({ welcome: received[0]!, echo: received[1]! })
      else reject(new Error(`closed with ${code} after ${received.length} messages`))
    })
    socket.on('error', reject)
  })
}

/**
 * Logs in once, then talks through @wsauth/client (which sends `Authorization: Bearer`), then over Basic with the
 * token (`token:<access_token>`) and Basic with the password, which the guard also takes from machines.
 */
export async function runMachineClient (options: MachineClientOptions): Promise<Conversation[]> {
  const message = options.message ?? 'hello from a machine'
  const tokens = await login(options.baseUrl, options.username, options.password)
  const viaClient = await converseWithClient(options.baseUrl, tokens, message)
  const conversations: Conversation[] = [{ ...viaClient, transport: `@wsauth/client (${viaClient.transport})` }]
  const basic: Array<[string, string]> = [
    ['Authorization: Basic token:<access_token>', `Basic ${encodeBasic('token', tokens.accessToken)}`],
    ['Authorization: Basic username:password', `Basic ${encodeBasic(options.username, options.password)}`],
  ]
  for (const [transport, authorization] of basic) {
    conversations.push({ transport, ...await converse(options.baseUrl, authorization, message) })
  }
  return conversations
}
