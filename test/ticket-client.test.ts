// @wsauth/client in Node (the ws package) against a server with @wsauth/ticket: the client finds the ticket endpoint in
// the discovery document, pays for a ticket with its token, and opens the socket with it; a revoked token's 4401 makes
// it come back with a fresh token and a fresh ticket.
import t from 'tap'
import WebSocket from 'ws'
import { connect, type WsAuthClient } from '@wsauth/client'
import ticket from '@wsauth/ticket'
import type { Identity } from '@wsauth/core'
import { build, claimsOf, type Fixture } from './helpers/index.ts'

function firstMessage (client: WsAuthClient): Promise<string> {
  return new Promise((resolve) => client.addEventListener('message', (event) => resolve(String(event.data)), { once: true }))
}

async function ticketApp (t: Parameters<typeof build>[0]): Promise<{ fx: Fixture, tokens: string[] }> {
  const tokens: string[] = []
  const fx = await build(t, { plugins: async (app) => { await app.register(ticket) } })
  return { fx, tokens }
}

function freshTokens (fx: Fixture, tokens: string[]): () => string {
  return () => {
    const token = fx.sign({ sub: 'alice' }, { expiresIn: 600, jti: `alice-${tokens.length + 1}` })
    tokens.push(token)
    return token
  }
}

t.test('transport ticket: the client mints a ticket from the discovered endpoint and opens with it', async (t) => {
  const { fx, tokens } = await ticketApp(t)
  const client = connect(fx.url('/identity'), { WebSocket, getToken: freshTokens(fx, tokens), transport: 'ticket' })
  t.teardown(() => client.close())
  const identity = JSON.parse(await firstMessage(client)) as Identity
  t.equal(client.transport, 'ticket')
  t.equal(identity.transport, 'ticket', 'the server saw a ticket')
  t.equal(identity.subject, 'alice')
  t.equal(identity.tokenId, claimsOf(tokens[0]!).jti, 'the identity of the token that paid for it')
})

t.test('a headerless WebSocket (as a browser\'s): the client picks the ticket by itself', async (t) => {
  const { fx, tokens } = await ticketApp(t)
  // The client takes a constructor given as `WebSocket` to take headers: a headerless one goes where a browser has it.
  const global = globalThis as { WebSocket?: unknown }
  global.WebSocket = function Headerless (url: string, protocols: string[]) { return new WebSocket(url, protocols) }
  t.teardown(() => { delete global.WebSocket })
  const client = connect(fx.url('/identity'), { getToken: freshTokens(fx, tokens) })
  t.teardown(() => client.close())
  const identity = JSON.parse(await firstMessage(client)) as Identity
  t.equal(client.transport, 'ticket')
  t.equal(identity.transport, 'ticket')
})

t.test('revoked: 4401, then a fresh token buys a fresh ticket and the client is back', async (t) => {
  const { fx, tokens } = await ticketApp(t)
  const client = connect(fx.url('/ws'), { WebSocket, getToken: freshTokens(fx, tokens), transport: 'ticket' })
  t.teardown(() => client.close())
  t.equal(await firstMessage(client), 'Welcome alice!')
  const back = firstMessage(client)
  const { jti, exp } = claimsOf(tokens[0]!)
  t.equal(await fx.app.wsAuth.revokeToken(jti!, exp * 1000), 1)
  t.equal(await back, 'Welcome alice!', 'reconnected')
  t.equal(tokens.length, 2, 'with a second token')
})
