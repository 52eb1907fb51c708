// One benchmark server per process (see server.ts): the guard verifying an external issuer's JWTs from a JWKS, either
// through @fastify/jwt with a key function or through @wsauth/ws-bearer's jose-based externalIssuerVerifier.
import { createPublicKey } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { echoRoute, serveBenchmark } from './serve.ts'
import websocket from '@fastify/websocket'
import jwt from '@fastify/jwt'
import wsBearer, { externalIssuerVerifier } from '@wsauth/ws-bearer'
import { BENCH_AUDIENCE, BENCH_ISSUER } from './secret.ts'

const [variant = 'baseline', jwksUri = '', alg = 'RS256'] = process.argv.slice(2)

/** The cheapest key function fast-jwt can have: the JWKS fetched once, each key turned into PEM once. */
async function pemByKid (): Promise<Map<string, string>> {
  const { keys } = await (await fetch(jwksUri)).json() as { keys: Array<{ kid: string }> }
  return new Map(keys.map((key) => [key.kid, createPublicKey({ key, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string]))
}

async function build (): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(websocket)
  if (variant === 'fastify-jwt') {
    const pems = await pemByKid()
    await app.register(jwt, {
      secret: async (decoded: { header: { kid?: string } }) => pems.get(decoded.header.kid ?? '') ?? '',
      verify: { allowedIss: BENCH_ISSUER, allowedAud: BENCH_AUDIENCE, algorithms: [alg as 'RS256'] },
    } as unknown as Parameters<typeof jwt>[1])
    await app.register(wsBearer, {})
  } else if (variant === 'jose') {
    await app.register(wsBearer, {
      verify: externalIssuerVerifier({ issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE, jwksUri, algorithms: [alg as 'RS256'] }),
    })
  }
  echoRoute(app)
  return app
}

const app = await build()
await serveBenchmark(app)
