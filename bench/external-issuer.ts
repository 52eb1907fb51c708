// Server CPU time per handshake cycle when the guard verifies an external issuer's JWTs (RS256, ES256, EdDSA keys from a
// JWKS), through @fastify/jwt with a key function, or through @wsauth/ws-bearer's jose-based `externalIssuerVerifier`;
// as ratios to @fastify/websocket with no authentication, measured in the same run (see harness.ts).
// Every cycle presents a token the server has not seen (more tokens than the guard remembers), so each handshake pays
// for a signature check; one row repeats 64 tokens, to show what remembering verified tokens saves.
import { once } from 'node:events'
import { createServer } from 'node:http'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { ratioTable, startServer, type Contender, type Server } from './harness.ts'
import { BENCH_AUDIENCE, BENCH_ISSUER } from './secret.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11)
const CYCLES = Number(process.env.BENCH_CYCLES ?? 300)
const CONCURRENCY = 8
// More than the guard remembers (VERIFIED_TOKENS_MAX, 1000), handed out in order: none is remembered when it comes back.
const FRESH_TOKENS = 1500
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const

const keys = await Promise.all(ALGORITHMS.map(async (alg) => ({ alg, ...await generateKeyPair(alg, { extractable: true }) })))
const jwks = { keys: await Promise.all(keys.map(async ({ alg, publicKey }) => ({ ...await exportJWK(publicKey), kid: alg, alg, use: 'sig' }))) }
const jwksServer = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)))
jwksServer.listen(0, '127.0.0.1')
await once(jwksServer, 'listening')
const jwksUri = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks`

const tokens = new Map<string, string[]>()
for (const { alg, privateKey } of keys) {
  tokens.set(alg, await Promise.all(Array.from({ length: FRESH_TOKENS }, (_, i) => new SignJWT({ sub: `user${i}`, scope: 'chat', jti: `${alg}-${i}` })
    .setProtectedHeader({ alg, kid: alg }).setIssuer(BENCH_ISSUER).setAudience(BENCH_AUDIENCE).setIssuedAt().setExpirationTime('1h')
    .sign(privateKey))))
}

const script = new URL('./external-issuer-server.ts', import.meta.url)
const bearer = (token: string) => ({ path: '/ws', headers: { authorization: `Bearer ${token}` } })
const started: Server[] = []
const start = async (args: string[]): Promise<Server> => {
  const server = await startServer(script, args)
  started.push(server)
  return server
}
const baseline = await start(['baseline'])
const contenders: Contender[] = [
  { name: 'no auth (baseline), RS256-sized header', server: baseline, present: (i) => bearer(tokens.get('RS256')![i % FRESH_TOKENS]!), baseline: 0 },
]
// Each server goes on through the tokens from run to run (a run's cycles count from 0).
const fresh = (alg: string) => {
  let next = 0
  return () => bearer(tokens.get(alg)![next++ % FRESH_TOKENS]!)
}
for (const alg of ALGORITHMS) {
  contenders.push({ name: `@fastify/jwt key function, ${alg}, new token each`, server: await start(['fastify-jwt', jwksUri, alg]), present: fresh(alg), baseline: 0 })
  contenders.push({ name: `jose externalIssuerVerifier, ${alg}, new token each`, server: await start(['jose', jwksUri, alg]), present: fresh(alg), baseline: 0 })
}
contenders.push({
  name: 'jose externalIssuerVerifier, RS256, 64 tokens again and again',
  server: await start(['jose', jwksUri, 'RS256']),
  present: (i) => bearer(tokens.get('RS256')![i % 64]!),
  baseline: 0,
})

const rows = await ratioTable(contenders, ROUNDS, CYCLES, CONCURRENCY)
for (const server of started) server.child.send('exit')
jwksServer.close()
console.log(`external issuer, handshake cycle: upgrade, welcome, one echo, close; ${ROUNDS} rounds × ${CYCLES} cycles, ${CONCURRENCY} at once`)
console.table(rows)
