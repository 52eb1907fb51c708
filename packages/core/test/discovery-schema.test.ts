import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import t from 'tap'
import type { DiscoveryDocument } from '@wsauth/core'
import { discoveryCloseCodes, discoveryErrors } from '../../../test/helpers/discovery.ts'

// The contract's example (DISCOVERY.md), typed: the TypeScript type and the schema must both accept it.
const example: DiscoveryDocument = {
  wsauth: 1,
  endpoints: { token: '/token', revoke: '/revoke', ticket: '/ws-ticket', cookie: '/ws-auth' },
  inBand: {
    timeoutMs: 5000,
    maxPayload: 4096,
    expiringNoticeMs: 30000,
    messages: { typeKey: 'type', tokenKey: 'token', auth: 'auth', refresh: 'auth.refresh', ok: 'auth.ok', expiring: 'auth.expiring' },
  },
  closeCodes: discoveryCloseCodes(),
  routes: [{
    path: '/secured-ws',
    mode: 'http',
    protocols: ['echo.v1'],
    firstMessage: false,
    refresh: true,
    transports: {
      bearer: {},
      basic: { tokenUsername: 'token', password: true },
      query: { param: 'token' },
      subprotocol: { formats: ['jupyter', 'kubernetes', 'wsauth'] },
      cookie: { endpoint: '/ws-auth' },
      ticket: { endpoint: '/ws-ticket', param: 'ticket', subprotocolPrefix: 'wsauth.ticket.' },
    },
  }],
}

const clone = (): Record<string, any> => structuredClone(example) as unknown as Record<string, any>

t.test('the package exports the schema file', async (t) => {
  const path = createRequire(import.meta.url).resolve('@wsauth/core/discovery.schema.json')
  t.match(path, /packages\/core\/discovery\.schema\.json$/)
  const schema = JSON.parse(await readFile(path, 'utf8')) as { $schema: string }
  t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
})

t.test('the contract example is valid', async (t) => {
  t.strictSame(discoveryErrors(example), [])
  t.equal(example.closeCodes.length, 11, 'one entry per outcome')
  t.strictSame(example.closeCodes[0], { outcome: 'missing', code: 4401, reason: 'unauthorized' })
})

t.test('the smallest document: no endpoints, no inBand, no routes', async (t) => {
  t.strictSame(discoveryErrors({ wsauth: 1, endpoints: {}, closeCodes: [], routes: [] }), [])
})

t.test('unknown keys are allowed everywhere (clients ignore them)', async (t) => {
  const doc = clone()
  doc.later = true
  doc.endpoints.other = '/other'
  doc.inBand.extra = 1
  doc.routes[0].extra = 'x'
  doc.routes[0].transports['a-new-transport'] = { anything: 1 }
  doc.routes[0].transports.subprotocol.formats.push('a-new-format')
  t.strictSame(discoveryErrors(doc), [])
})

t.test('what the schema refuses', async (t) => {
  const cases: Array<[string, (doc: Record<string, any>) => void, string]> = [
    ['another version', (doc) => { doc.wsauth = 2 }, '/wsauth must be equal to constant'],
    ['no routes', (doc) => { delete doc.routes }, "/ must have required property 'routes'"],
    ['no endpoints', (doc) => { delete doc.endpoints }, "/ must have required property 'endpoints'"],
    ['no closeCodes', (doc) => { delete doc.closeCodes }, "/ must have required property 'closeCodes'"],
    ['an endpoint that is not a path', (doc) => { doc.endpoints.token = 'https://evil.test/token' }, '/endpoints/token must match pattern "^/"'],
    ['inBand without messages', (doc) => { delete doc.inBand.messages }, "/inBand must have required property 'messages'"],
    ['an empty message name', (doc) => { doc.inBand.messages.ok = '' }, '/inBand/messages/ok must NOT have fewer than 1 characters'],
    ['a fractional maxPayload', (doc) => { doc.inBand.maxPayload = 1.5 }, '/inBand/maxPayload must be integer'],
    ['a negative notice', (doc) => { doc.inBand.expiringNoticeMs = -1 }, '/inBand/expiringNoticeMs must be >= 0'],
    ['a close code out of range', (doc) => { doc.closeCodes[0].code = 5000 }, '/closeCodes/0/code must be <= 4999'],
    ['a route without a mode', (doc) => { delete doc.routes[0].mode }, "/routes/0 must have required property 'mode'"],
    ['another mode', (doc) => { doc.routes[0].mode = 'Close' }, '/routes/0/mode must be equal to one of the allowed values'],
    ['a duplicated protocol', (doc) => { doc.routes[0].protocols = ['a', 'a'] }, '/routes/0/protocols must NOT have duplicate items (items ## 0 and 1 are identical)'],
    ['refresh as a string', (doc) => { doc.routes[0].refresh = 'yes' }, '/routes/0/refresh must be boolean'],
    ['query without param', (doc) => { doc.routes[0].transports.query = {} }, "/routes/0/transports/query must have required property 'param'"],
    ['subprotocol with no format', (doc) => { doc.routes[0].transports.subprotocol.formats = [] },
      '/routes/0/transports/subprotocol/formats must NOT have fewer than 1 items'],
    ['a ticket without its prefix', (doc) => { delete doc.routes[0].transports.ticket.subprotocolPrefix },
      "/routes/0/transports/ticket must have required property 'subprotocolPrefix'"],
    ['a relative route path', (doc) => { doc.routes[0].path = 'secured-ws' }, '/routes/0/path must match pattern "^/"'],
  ]
  for (const [name, change, error] of cases) {
    const doc = clone()
    change(doc)
    t.ok(discoveryErrors(doc).includes(error), `${name}: ${error}`)
  }
  t.ok(discoveryErrors('not an object').includes('/ must be object'), 'a string')
  t.ok(discoveryErrors(null).includes('/ must be object'), 'null')
})
