import WebSocket from 'ws'
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

/** POST /token with the password grant (form-encoded, as RFC 6749 §4.3 has it); returns the access token. */
export async function login (baseUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(new URL('/token', baseUrl), {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username, password }),
  })
  const body = await response.json() as { access_token?: string, error?: string }
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new Error(`login failed: ${response.status} ${body.error ?? ''}`.trim())
  }
  return body.access_token
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

/** Logs in once, then talks over Bearer, Basic with the token (`token:<access_token>`), and Basic with the password. */
export async function runMachineClient (options: MachineClientOptions): Promise<Conversation[]> {
  const message = options.message ?? 'hello from a machine'
  const token = await login(options.baseUrl, options.username, options.password)
  const transports: Array<[string, string]> = [
    ['Authorization: Bearer', `Bearer ${token}`],
    ['Authorization: Basic token:<access_token>', `Basic ${encodeBasic('token', token)}`],
    ['Authorization: Basic username:password', `Basic ${encodeBasic(options.username, options.password)}`],
  ]
  const conversations: Conversation[] = []
  for (const [transport, authorization] of transports) {
    conversations.push({ transport, ...await converse(options.baseUrl, authorization, message) })
  }
  return conversations
}
