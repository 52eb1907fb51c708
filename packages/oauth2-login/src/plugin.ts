import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import fastifyCookie from '@fastify/cookie'
import { httpAnswer, toWsAuthError } from '@wsauth/core'
import { OAuthError } from '@wsauth/password-bearer'
import type { UpstreamError } from '@wsauth/ws-bearer'
import { LOGIN_FAILURES, LoginError } from './errors.js'
import { LoginCodes, type PendingSignIn } from './login-codes.js'
import { readLoginOptions, type OAuth2LoginOptions } from './options.js'
import { sendFailurePage, sendSignedIn, wantsJson } from './pages.js'
import { Provider } from './provider.js'
import { SignIn, oauth2ClientOptions } from './sign-in.js'

// The callback's query carries the provider's code and the state: neither belongs in a log line.

async function oauth2Login (fastify: FastifyInstance, options: OAuth2LoginOptions): Promise<void> {
  const settings = readLoginOptions(options)
  const store = settings.codes ?? fastify.wsAuth.stores.singleUse<PendingSignIn>('oauth2-login:codes')
  const codes = new LoginCodes(store, settings.codeTtlMs, settings.clock)
  const provider = new Provider({
    issuer: settings.issuer,
    timeoutMs: settings.providerTimeoutMs,
    cooldownMs: settings.providerCooldownMs,
    clock: settings.clock,
    // One line, at the moment it happens: sign-ins answer 503 until the provider is back.
    onFailure: (error: UpstreamError) => fastify.log.warn(`sign-in provider unavailable: ${error.message}`),
    client: oauth2ClientOptions(settings),
  })
  const signIn = new SignIn(settings, provider, codes)

  fastify.passwordBearer.addGrant(settings.grantType, async ({ params }) => {
    const code = params.code
    if (code === undefined || code === '') throw new OAuthError('invalid_request', 'missing code')
    if (typeof code !== 'string') throw new OAuthError('invalid_request', 'code must be one string')
    const signedIn = await codes.redeem(code)
    if (signedIn === null) throw new OAuthError('invalid_grant', 'invalid code')
    return signedIn
  })

  // Connects while the app starts, without holding it up: a provider that is down only fails sign-ins.
  let warmingUp: Promise<unknown> = Promise.resolve()
  fastify.addHook('onReady', async () => {
    warmingUp = provider.connect().catch(() => {})
  })
  fastify.addHook('onClose', async () => {
    await warmingUp
    await provider.close()
  })

  function answerFailure (thrown: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    reply.header('cache-control', 'no-store')
    if (!(thrown instanceof LoginError)) {
      const error = toWsAuthError(thrown)
      request.log.error({ err: error.cause ?? error }, 'sign-in failed: %s', error.outcome)
      const answer = httpAnswer(error, { realm: 'wsauth' })
      return reply.code(answer.status).send(answer.body)
    }
    const failure = LOGIN_FAILURES[thrown.failure]
    if (thrown.failure === 'provider_unavailable') {
      // Failures to fetch the configuration or keys were logged when they happened; the token endpoint's is logged here.
      const cause = thrown.cause as Error | undefined
      if (cause?.message?.startsWith('token endpoint') === true) request.log.warn(`sign-in provider unavailable: ${cause.message}`)
      reply.header('retry-after', String(Math.max(1, provider.retryAfter())))
    } else {
      request.log.info({ oauth2Login: { failure: thrown.failure } }, 'sign-in refused')
    }
    if (wantsJson(request)) return reply.code(thrown.status).send({ error: thrown.failure, error_description: failure.description })
    return sendFailurePage(reply, thrown.status, { ...failure, retry: settings.startPath, back: settings.successPath })
  }

  await fastify.register(async function oauth2LoginRoutes (routes) {
    if (!routes.hasRequestDecorator('cookies')) await routes.register(fastifyCookie)
    // The app's @fastify/cookie may be registered without its parsing hook (as @wsauth/cookie-iframe does).
    routes.addHook('onRequest', async (request) => {
      request.cookies ??= routes.parseCookie(request.headers.cookie ?? '')
    })
    routes.setErrorHandler(answerFailure)
    routes.get(settings.startPath, async (request, reply) => reply.redirect(await signIn.start(request, reply)))
    routes.get(settings.callbackPath, async (request, reply) => {
      const code = await signIn.finish(request, reply)
      if (wantsJson(request)) {
        return reply.header('cache-control', 'no-store').send({ code, expires_in: settings.codeTtlMs / 1000 })
      }
      return sendSignedIn(reply, code, settings.successPath)
    })
  })
}

export default fp(oauth2Login, {
  name: '@wsauth/oauth2-login',
  fastify: '5.x',
  dependencies: ['@wsauth/password-bearer'],
})
