import t from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import wsBearer from '@wsauth/ws-bearer'
import passwordBearer, { MemoryUserStore } from '@wsauth/password-bearer'
import oauth2Login, { type OAuth2LoginOptions } from '@wsauth/oauth2-login'
import { JWT_SECRET } from './fixture.ts'

const VALID: OAuth2LoginOptions = { issuer: 'http://127.0.0.1:1', clientId: 'app', resolveUser: () => null }

async function register (options: object, withPasswordBearer = true): Promise<void> {
  const app = Fastify()
  try {
    await app.register(fastifyJwt, { secret: JWT_SECRET })
    await app.register(websocket)
    await app.register(wsBearer)
    if (withPasswordBearer) await app.register(passwordBearer, { users: new MemoryUserStore() })
    await app.register(oauth2Login, options as unknown as OAuth2LoginOptions)
    await app.ready()
  } finally {
    await app.close()
  }
}

t.test('options are checked at startup; the message names the option', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...VALID, issuer: undefined }, /option "issuer" is required/],
    [{ ...VALID, issuer: 'idp.example' }, /option "issuer" must be an http\(s\) URL/],
    [{ ...VALID, clientId: undefined }, /option "clientId" is required/],
    [{ ...VALID, resolveUser: undefined }, /option "resolveUser" is required/],
    [{ ...VALID, resolveUser: 'alice' }, /option "resolveUser" must be a function/],
    [{ ...VALID, callbackUri: '/callback' }, /option "callbackUri" must be an http\(s\) URL or a function/],
    [{ ...VALID, successPath: '//evil.example' }, /option "successPath" must be a path on this origin/],
    [{ ...VALID, successPath: 'https://evil.example' }, /option "successPath" must be a path/],
    [{ ...VALID, algorithms: ['none'] }, /option "algorithms" must be a non-empty list of RS256/],
    [{ ...VALID, algorithms: ['HS256'] }, /option "algorithms"/],
    [{ ...VALID, scope: 'openid' }, /option "scope" must be an array/],
    [{ ...VALID, codeTtlSeconds: 0 }, /option "codeTtlSeconds" must be an integer >= 1/],
    [{ ...VALID, codes: new Map() }, /option "codes" must be a SingleUseStore/],
    [{ ...VALID, discovery: {} }, /option "discovery" is not an option of @wsauth\/oauth2-login/],
  ]
  for (const [options, message] of cases) await t.rejects(register(options), { name: 'WsAuthOptionsError', message })
  await t.rejects(register(VALID, false), /@wsauth\/password-bearer/, 'password-bearer is required')
  await t.resolves(register({ ...VALID, scope: ['email'], callbackUri: (request: unknown) => String(request) }), 'valid options start')
})
