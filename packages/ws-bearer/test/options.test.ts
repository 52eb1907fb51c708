// The guard's options and a route's `config.wsAuth`, checked at registration with core's readOptions: every mistake is
// a startup error whose message names the option.
import t from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import wsBearer from '@wsauth/ws-bearer'
import { MemoryDenyList } from '@wsauth/core'
import { SECRET, build, stillServes } from '../../../test/helpers/index.ts'

const P = '@wsauth/ws-bearer: option'

async function register (options: unknown): Promise<unknown> {
  const app = Fastify()
  try {
    await app.register(fastifyJwt, { secret: SECRET })
    await app.register(fastifyWebsocket)
    await app.register(wsBearer, options as never)
    await app.ready()
    return null
  } catch (error) {
    return error
  } finally {
    await app.close()
  }
}

t.test('the guard\'s options: a startup error naming the option', async (t) => {
  const cases: Array<[unknown, string]> = [
    ['bearer', `${P} "options" must be an object; got a string`],
    [{ orgins: ['http://a.example'] }, `${P} "orgins" is not an option of @wsauth/ws-bearer`],
    [{ origins: 'http://a.example' }, `${P} "origins" must be an array of non-empty strings; got a string`],
    [{ origins: [''] }, `${P} "origins" must be an array of non-empty strings; got an array`],
    [{ origins: ['http://a.example/path'] }, `${P} "origins" must list origins (scheme://host[:port]), not "http://a.example/path"`],
    [{ mode: 'Close' }, `${P} "mode" must be one of "http", "close"; got "Close"`],
    [{ mode: true }, `${P} "mode" must be one of "http", "close"; got true`],
    [{ invalidTokenStatus: 404 }, `${P} "invalidTokenStatus" must be one of 401, 403; got 404`],
    [{ maxCredentialLength: -1 }, `${P} "maxCredentialLength" must be an integer >= 1; got -1`],
    [{ maxCredentialLength: 0 }, `${P} "maxCredentialLength" must be an integer >= 1; got 0`],
    [{ maxCredentialLength: 40.5 }, `${P} "maxCredentialLength" must be an integer >= 1; got 40.5`],
    [{ maxCredentialLength: '4096' }, `${P} "maxCredentialLength" must be an integer >= 1; got a string`],
    [{ realm: '' }, `${P} "realm" must be a non-empty string; got a string`],
    [{ jwtNamespace: 3 }, `${P} "jwtNamespace" must be a non-empty string; got 3`],
    [{ verify: 'jwt' }, `${P} "verify" must be a function; got a string`],
    [{ authorize: true }, `${P} "authorize" must be a function; got true`],
    [{ clock: 0 }, `${P} "clock" must be a function; got 0`],
    [{ denyList: new Map() }, `${P} "denyList" must be a DenyList (has and add)`],
    [{ stores: { denyList: new MemoryDenyList() } }, `${P} "stores" must be a stores bundle (memoryStores() from @wsauth/core, wsAuthRedis(…) from @wsauth/redis)`],
    [{ query: 'token' }, `${P} "query" must be true, false or an options object`],
    [{ query: { nme: 'access_token' } }, `${P} "query.nme" is not an option of @wsauth/ws-bearer`],
    [{ query: { name: '' } }, `${P} "query.name" must be a non-empty string; got a string`],
    [{ basic: 'yes', origins: ['http://a.example'] }, `${P} "basic" must be true, false or an options object`],
    [{ basic: true }, `${P} "basic" needs \`origins\`: Basic credentials are sent by browsers on their own; set \`origins\` to an allowlist`],
    [{ basic: true, origins: [] }, `${P} "basic" needs \`origins\`: Basic credentials are sent by browsers on their own; set \`origins\` to an allowlist`],
    [{ basic: { lifetime: 0 }, origins: ['http://a.example'] }, `${P} "basic.lifetime" must be an integer >= 1; got 0`],
    [{ basic: { lifetime: -900 }, origins: ['http://a.example'] }, `${P} "basic.lifetime" must be an integer >= 1; got -900`],
    [{ basic: { lifetime: 1.5 }, origins: ['http://a.example'] }, `${P} "basic.lifetime" must be an integer >= 1; got 1.5`],
    [{ basic: { verifyPassword: 'x' }, origins: ['http://a.example'] }, `${P} "basic.verifyPassword" must be a function; got a string`],
    [{ basic: { tokenUser: 'x' }, origins: ['http://a.example'] }, `${P} "basic.tokenUser" is not an option of @wsauth/ws-bearer`],
  ]
  for (const [options, message] of cases) {
    t.match(await register(options), { name: 'WsAuthOptionsError', code: 'ERR_WSAUTH_OPTIONS', message }, message)
  }
  t.equal(await register({
    query: { name: 'access_token' },
    origins: ['http://a.example'],
    mode: 'close',
    invalidTokenStatus: 403,
    maxCredentialLength: 8192,
    realm: 'chat',
    denyList: new MemoryDenyList(),
    clock: Date.now,
    basic: { lifetime: 60, tokenUsername: 'jwt', verifyPassword: async () => null },
    logLevel: 'warn',
  }), null, 'every option given right (and Fastify\'s own register options) starts')
})

t.test('a route\'s config.wsAuth: a startup error naming the route and the option', async (t) => {
  const fx = await build(t)
  const cases: Array<[unknown, string]> = [
    [{ mode: 'Close' }, '@wsauth/ws-bearer (route GET /bad): option "config.wsAuth.mode" must be one of "http", "close"; got "Close"'],
    [{ firstmessage: true }, '@wsauth/ws-bearer (route GET /bad): option "config.wsAuth.firstmessage" is not an option of @wsauth/ws-bearer (route GET /bad)'],
    [{ refresh: 'yes' }, '@wsauth/ws-bearer (route GET /bad): option "config.wsAuth.refresh" must be true or false; got a string'],
    [{ authorize: 'admin' }, '@wsauth/ws-bearer (route GET /bad): option "config.wsAuth.authorize" must be a function; got a string'],
    [true, '@wsauth/ws-bearer (route GET /bad): option "config.wsAuth" must be an object; got true'],
  ]
  const app = Fastify()
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  await app.register(wsBearer, {})
  for (const [wsAuth, message] of cases) {
    t.throws(() => app.get('/bad', { websocket: true, config: { wsAuth: wsAuth as never } }, () => {}), { name: 'WsAuthOptionsError', message }, message)
  }
  await app.close()
  await stillServes(t, fx)
})
