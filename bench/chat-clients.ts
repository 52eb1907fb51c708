// The chat benchmarks' clients: real ws sockets in this process, each in `general` (the chat variant signs in with a
// bearer token and joins; the bare variant just connects), and the timestamp every message carries in its text.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createSigner } from 'fast-jwt'
import WebSocket from 'ws'
import type { ChatMeasurement, ChatVariant } from './chat-server.ts'
import { BENCH_SECRET } from './secret.ts'

export interface ChatServer { child: ChildProcess, port: number }

export async function startChatServer (variant: ChatVariant, env: Record<string, string> = {}): Promise<ChatServer> {
  const child = fork(new URL('./chat-server.ts', import.meta.url), [variant], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, ...env },
  })
  const [message] = await once(child, 'message') as [{ port: number }]
  return { child, port: message.port }
}

export async function ask<T> (server: ChatServer, question: 'measure' | 'cpu'): Promise<T> {
  server.child.send(question)
  const [answer] = await once(server.child, 'message') as [T]
  return answer
}

export async function cpuOf (server: ChatServer): Promise<number> {
  return (await ask<{ cpu: number }>(server, 'cpu')).cpu
}

export async function stopChatServer (server: ChatServer): Promise<void> {
  const exited = once(server.child, 'exit')
  server.child.send('exit')
  await exited
}

export type { ChatMeasurement }

const sign = createSigner({ key: BENCH_SECRET })
const expiry = Math.floor(Date.now() / 1000) + 3 * 3600

/** A message whose text is the time it was sent (`performance.now()`), as the client sends it. */
export function stampedMessage (): string {
  return `{"type":"say","room":"general","text":"t${performance.now()}"}`
}

const TEXT = Buffer.from('"text":"t')

/** The send time a received message carries, or `null` for a frame that is not a stamped message. */
export function stampOf (data: Buffer): number | null {
  const at = data.indexOf(TEXT)
  if (at === -1) return null
  const start = at + TEXT.length
  return Number(data.toString('latin1', start, data.indexOf(34, start)))
}

/**
 * Opens one client in `general`: for the chat, a bearer token of `user<u>`, the join and its history; then every
 * frame goes to `onFrame`.
 */
function open (variant: ChatVariant, port: number, user: number, onFrame: (data: Buffer) => void): Promise<WebSocket> {
  const headers = variant === 'chat'
    ? { authorization: `Bearer ${sign({ sub: `user${user}`, scope: 'chat', jti: `bench-${user}-${Math.random()}`, exp: expiry })}` }
    : {}
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/chat`, { headers })
    socket.once('error', reject)
    if (variant === 'bare') {
      socket.once('open', () => { socket.on('message', onFrame); resolve(socket) })
      return
    }
    const onSetup = (data: Buffer): void => {
      const text = data.toString()
      if (text.startsWith('{"type":"rooms"')) {
        socket.send('{"type":"join","room":"general"}')
      } else if (text.startsWith('{"type":"history"')) {
        socket.off('message', onSetup)
        socket.on('message', onFrame)
        resolve(socket)
      } else if (text.startsWith('{"type":"error"')) {
        reject(new Error(text))
      }
    }
    socket.on('message', onSetup)
    socket.once('close', (code) => reject(new Error(`closed with ${code} while joining`)))
  })
}

/**
 * `count` clients spread round-robin over `ports` and over `users` subjects (so a subject has count / users sockets),
 * opened a few at a time. `onFrame(i, data)` gets client i's frames once it is in the room.
 */
export async function openClients (
  variant: ChatVariant, ports: number[], count: number, users: number, onFrame: (client: number, data: Buffer) => void
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      sockets[i] = await open(variant, ports[i % ports.length]!, i % users, (data) => onFrame(i, data))
    }
  }
  await Promise.all(Array.from({ length: 50 }, worker))
  return sockets
}

export async function closeClients (sockets: WebSocket[]): Promise<void> {
  const closed = sockets.map((socket) => once(socket, 'close'))
  for (const socket of sockets) socket.close()
  await Promise.all(closed)
}
