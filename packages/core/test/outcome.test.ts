import t from 'tap'
import {
  OUTCOMES, RETRY_AFTER_REASON, UNAVAILABLE_RETRY_AFTER, WsAuthError, isWsAuthError, toWsAuthError, httpAnswer, closeAnswer, basicChallenge,
  type Outcome,
} from '@wsauth/core'

const ALL: Outcome[] = [
  'missing', 'malformed', 'invalid', 'forbidden', 'rate_limited', 'timeout',
  'expired', 'revoked', 'withdrawn', 'unavailable', 'internal',
]

t.test('OUTCOMES: every row, exactly', async (t) => {
  t.strictSame(Object.keys(OUTCOMES).sort(), [...ALL].sort(), 'one row per outcome, no more')
  t.strictSame(OUTCOMES.missing, { status: 401, error: 'unauthorized', closeCode: 4401, reason: 'unauthorized' })
  t.strictSame(OUTCOMES.malformed, { status: 400, error: 'invalid_request', closeCode: 4400, reason: 'bad request' })
  t.strictSame(OUTCOMES.invalid, { status: 401, error: 'invalid_token', closeCode: 4401, reason: 'invalid token' })
  t.strictSame(OUTCOMES.forbidden, { status: 403, error: 'forbidden', closeCode: 4403, reason: 'forbidden' })
  t.strictSame(OUTCOMES.rate_limited, { status: 429, error: 'too_many_requests', closeCode: 4429, reason: 'too many requests' })
  t.strictSame(OUTCOMES.timeout, { status: null, error: 'timeout', closeCode: 4408, reason: 'authentication timeout' })
  t.strictSame(OUTCOMES.expired, { status: 401, error: 'invalid_token', closeCode: 4401, reason: 'token expired' })
  t.strictSame(OUTCOMES.revoked, { status: 401, error: 'invalid_token', closeCode: 4401, reason: 'token revoked' })
  t.strictSame(OUTCOMES.withdrawn, { status: 403, error: 'forbidden', closeCode: 4403, reason: 'access withdrawn' })
  t.strictSame(OUTCOMES.unavailable, { status: 503, error: 'temporarily_unavailable', closeCode: 1013, reason: 'try again later' })
  t.strictSame(OUTCOMES.internal, { status: 500, error: 'server_error', closeCode: 1011, reason: 'internal error' })
  t.equal(Object.isFrozen(OUTCOMES), true, 'the table is frozen')
})

t.test('OUTCOMES: close reasons fit a close frame (123 bytes) and are fixed ASCII', async (t) => {
  for (const outcome of ALL) {
    const { reason } = OUTCOMES[outcome]
    t.ok(Buffer.byteLength(reason) <= 123, `${outcome}: reason fits`)
    t.match(reason, /^[a-z ]+$/, `${outcome}: reason is plain text`)
  }
})

t.test('WsAuthError: outcome, code, message, retryAfter, cause', async (t) => {
  const expected: Record<Outcome, string> = {
    missing: 'ERR_WSAUTH_MISSING',
    malformed: 'ERR_WSAUTH_MALFORMED',
    invalid: 'ERR_WSAUTH_INVALID',
    forbidden: 'ERR_WSAUTH_FORBIDDEN',
    rate_limited: 'ERR_WSAUTH_RATE_LIMITED',
    timeout: 'ERR_WSAUTH_TIMEOUT',
    expired: 'ERR_WSAUTH_EXPIRED',
    revoked: 'ERR_WSAUTH_REVOKED',
    withdrawn: 'ERR_WSAUTH_WITHDRAWN',
    unavailable: 'ERR_WSAUTH_UNAVAILABLE',
    internal: 'ERR_WSAUTH_INTERNAL',
  }
  for (const outcome of ALL) {
    const err = new WsAuthError(outcome)
    t.equal(err.outcome, outcome)
    t.equal(err.code, expected[outcome])
    t.equal(err.message, OUTCOMES[outcome].reason, `${outcome}: default message is the reason`)
    t.equal(err.name, 'WsAuthError')
    t.equal(err.retryAfter, undefined)
    t.equal(err.cause, undefined)
    t.equal('cause' in err, false, `${outcome}: no cause property without a cause`)
    t.equal(err instanceof Error, true)
    t.equal(err instanceof WsAuthError, true)
  }

  const custom = new WsAuthError('malformed', 'credential too long')
  t.equal(custom.message, 'credential too long')

  const cause = new Error('ECONNREFUSED 127.0.0.1:6379')
  const limited = new WsAuthError('rate_limited', undefined, { retryAfter: 12, cause })
  t.equal(limited.message, 'too many requests')
  t.equal(limited.retryAfter, 12)
  t.equal(limited.cause, cause)

  const falsyCause = new WsAuthError('unavailable', 'store down', { cause: null })
  t.equal(falsyCause.cause, null, 'a null cause is kept')
})

t.test('isWsAuthError', async (t) => {
  t.equal(isWsAuthError(new WsAuthError('invalid')), true)
  t.equal(isWsAuthError(new Error('invalid')), false)
  t.equal(isWsAuthError({ outcome: 'invalid', code: 'ERR_WSAUTH_INVALID' }), false, 'a look-alike object is not one')
  t.equal(isWsAuthError(undefined), false)
  t.equal(isWsAuthError(null), false)
  t.equal(isWsAuthError('ERR_WSAUTH_INVALID'), false)
})

t.test('toWsAuthError: keeps WsAuthErrors, wraps the rest as internal', async (t) => {
  const original = new WsAuthError('forbidden', 'origin not allowed')
  t.equal(toWsAuthError(original), original, 'same instance')

  const secret = new Error('password=hunter2 at /srv/app/secret.js:12')
  const wrapped = toWsAuthError(secret)
  t.equal(wrapped.outcome, 'internal')
  t.equal(wrapped.code, 'ERR_WSAUTH_INTERNAL')
  t.equal(wrapped.message, 'internal error')
  t.equal(wrapped.cause, secret)

  const answer = httpAnswer(wrapped, { realm: 'x' })
  t.strictSame(answer, {
    status: 500,
    headers: {},
    body: { error: 'server_error', error_description: 'internal error' },
  })
  t.notMatch(JSON.stringify(answer), /hunter2/, 'the wrapped message never reaches the answer')
  t.strictSame(closeAnswer(wrapped), { code: 1011, reason: 'internal error' })

  for (const value of ['a string', 42, null, undefined, { message: 'object' }]) {
    const err = toWsAuthError(value)
    t.equal(err.outcome, 'internal')
    t.equal(err.message, 'internal error')
    t.equal(err.cause, value)
  }
})

t.test('httpAnswer: an internal WsAuthError never shows its own message', async (t) => {
  const err = new WsAuthError('internal', 'TypeError: cannot read x of undefined')
  t.strictSame(httpAnswer(err, { realm: 'x' }).body, { error: 'server_error', error_description: 'internal error' })
})

t.test('httpAnswer: missing', async (t) => {
  t.strictSame(httpAnswer(new WsAuthError('missing'), { realm: 'x' }), {
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="x"' },
    body: { error: 'unauthorized', error_description: 'unauthorized' },
  })
  t.strictSame(httpAnswer(new WsAuthError('missing'), { realm: 'x', basic: false }).headers, {
    'www-authenticate': 'Bearer realm="x"',
  })
  t.strictSame(httpAnswer(new WsAuthError('missing'), { realm: 'x', basic: true }), {
    status: 401,
    headers: { 'www-authenticate': ['Bearer realm="x"', 'Basic realm="x", charset="UTF-8"'] },
    body: { error: 'unauthorized', error_description: 'unauthorized' },
  })
})

t.test('httpAnswer: invalid', async (t) => {
  t.strictSame(httpAnswer(new WsAuthError('invalid', 'wrong password'), { realm: 'x' }), {
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="x", error="invalid_token"' },
    body: { error: 'invalid_token', error_description: 'wrong password' },
  })
  t.strictSame(httpAnswer(new WsAuthError('invalid'), { realm: 'x', basic: true }).headers, {
    'www-authenticate': ['Bearer realm="x", error="invalid_token"', 'Basic realm="x", charset="UTF-8"'],
  })
})

t.test('httpAnswer: malformed', async (t) => {
  const expected = {
    status: 400,
    headers: { 'www-authenticate': 'Bearer realm="x", error="invalid_request"' },
    body: { error: 'invalid_request', error_description: 'more than one Authorization header' },
  }
  const err = new WsAuthError('malformed', 'more than one Authorization header')
  t.strictSame(httpAnswer(err, { realm: 'x' }), expected)
  t.strictSame(httpAnswer(err, { realm: 'x', basic: true }), expected, 'no Basic challenge on a 400')
})

t.test('httpAnswer: forbidden has no WWW-Authenticate', async (t) => {
  const err = new WsAuthError('forbidden', 'origin not allowed')
  const expected = { status: 403, headers: {}, body: { error: 'forbidden', error_description: 'origin not allowed' } }
  t.strictSame(httpAnswer(err, { realm: 'x' }), expected)
  t.strictSame(httpAnswer(err, { realm: 'x', basic: true }), expected)
})

t.test('httpAnswer: rate_limited and Retry-After', async (t) => {
  const answer = (retryAfter?: number) =>
    httpAnswer(new WsAuthError('rate_limited', undefined, retryAfter === undefined ? {} : { retryAfter }), { realm: 'x', basic: true })

  t.strictSame(answer(30), {
    status: 429,
    headers: { 'retry-after': '30' },
    body: { error: 'too_many_requests', error_description: 'too many requests' },
  })
  t.equal(answer(1).headers['retry-after'], '1')
  t.equal(answer(1.2).headers['retry-after'], '2', 'rounds up')
  t.equal(answer(59.0001).headers['retry-after'], '60', 'rounds up')
  t.equal(answer(0.2).headers['retry-after'], '1', 'at least 1')
  t.equal(answer(0).headers['retry-after'], '1', 'at least 1')
  t.equal(answer(-5).headers['retry-after'], '1', 'at least 1')
  t.strictSame(answer().headers, {}, 'no Retry-After without retryAfter')
  t.strictSame(answer(Number.NaN).headers, {}, 'NaN is left out')
  t.strictSame(answer(Number.POSITIVE_INFINITY).headers, {}, 'Infinity is left out')
})

t.test('httpAnswer: retryAfter is ignored outside 429 and 503', async (t) => {
  const err = new WsAuthError('invalid', undefined, { retryAfter: 10 })
  t.strictSame(httpAnswer(err, { realm: 'x' }).headers, { 'www-authenticate': 'Bearer realm="x", error="invalid_token"' })
  const down = new WsAuthError('unavailable', undefined, { retryAfter: 10 })
  t.strictSame(httpAnswer(down, { realm: 'x' }).headers, { 'retry-after': '10' })
})

t.test('httpAnswer: unavailable always carries Retry-After', async (t) => {
  t.strictSame(httpAnswer(new WsAuthError('unavailable'), { realm: 'x', basic: true }), {
    status: 503,
    headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER) },
    body: { error: 'temporarily_unavailable', error_description: 'try again later' },
  })
})

t.test('httpAnswer: a close-only outcome (timeout) is an invalid token over HTTP', async (t) => {
  t.strictSame(httpAnswer(new WsAuthError('timeout', 'a message that is not shown'), { realm: 'x' }), {
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="x", error="invalid_token"' },
    body: { error: 'invalid_token', error_description: 'invalid token' },
  })
  t.strictSame(httpAnswer(new WsAuthError('timeout'), { realm: 'x', basic: true }).headers, {
    'www-authenticate': ['Bearer realm="x", error="invalid_token"', 'Basic realm="x", charset="UTF-8"'],
  })
})

t.test('httpAnswer: expired and revoked are 401 invalid_token; withdrawn is 403', async (t) => {
  for (const outcome of ['expired', 'revoked'] as const) {
    t.strictSame(httpAnswer(new WsAuthError(outcome), { realm: 'x' }), {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="x", error="invalid_token"' },
      body: { error: 'invalid_token', error_description: OUTCOMES[outcome].reason },
    }, outcome)
  }
  t.strictSame(httpAnswer(new WsAuthError('withdrawn'), { realm: 'x', basic: true }), {
    status: 403,
    headers: {},
    body: { error: 'forbidden', error_description: 'access withdrawn' },
  })
})

t.test('httpAnswer: server-side failures never show their message', async (t) => {
  t.equal(httpAnswer(new WsAuthError('unavailable', 'ECONNREFUSED 127.0.0.1:6379'), { realm: 'x' }).body.error_description, 'try again later')
  t.equal(httpAnswer(new WsAuthError('internal', 'TypeError: x is undefined'), { realm: 'x' }).body.error_description, 'internal error')
})

t.test('httpAnswer: realm is a quoted-string', async (t) => {
  const headers = (realm: string, basic = false) => httpAnswer(new WsAuthError('missing'), { realm, basic }).headers
  t.strictSame(headers('wsauth'), { 'www-authenticate': 'Bearer realm="wsauth"' })
  t.strictSame(headers(''), { 'www-authenticate': 'Bearer realm=""' })
  t.strictSame(headers('say "hi"'), { 'www-authenticate': 'Bearer realm="say \\"hi\\""' })
  t.strictSame(headers('back\\slash'), { 'www-authenticate': 'Bearer realm="back\\\\slash"' })
  t.strictSame(headers('a"\\b', true), {
    'www-authenticate': ['Bearer realm="a\\"\\\\b"', 'Basic realm="a\\"\\\\b", charset="UTF-8"'],
  })
  t.strictSame(httpAnswer(new WsAuthError('malformed'), { realm: 'q"' }).headers, {
    'www-authenticate': 'Bearer realm="q\\"", error="invalid_request"',
  })
})

t.test('closeAnswer: every outcome', async (t) => {
  const expected: Record<Outcome, { code: number, reason: string }> = {
    missing: { code: 4401, reason: 'unauthorized' },
    malformed: { code: 4400, reason: 'bad request' },
    invalid: { code: 4401, reason: 'invalid token' },
    forbidden: { code: 4403, reason: 'forbidden' },
    rate_limited: { code: 4429, reason: 'too many requests' },
    timeout: { code: 4408, reason: 'authentication timeout' },
    expired: { code: 4401, reason: 'token expired' },
    revoked: { code: 4401, reason: 'token revoked' },
    withdrawn: { code: 4403, reason: 'access withdrawn' },
    unavailable: { code: 1013, reason: 'try again later' },
    internal: { code: 1011, reason: 'internal error' },
  }
  for (const outcome of ALL) {
    t.strictSame(closeAnswer(new WsAuthError(outcome)), expected[outcome], outcome)
    t.strictSame(closeAnswer(new WsAuthError(outcome, 'eyJhbGciOi.secret.token')), expected[outcome], `${outcome}: the message is never the reason`)
  }
})

t.test('closeAnswer: a 4429 carries the wait in its reason, in whole seconds', async (t) => {
  const answer = (retryAfter?: number) => closeAnswer(new WsAuthError('rate_limited', undefined, retryAfter === undefined ? {} : { retryAfter }))
  t.equal(RETRY_AFTER_REASON, '; retry-after=')
  t.strictSame(answer(30), { code: 4429, reason: 'too many requests; retry-after=30' })
  t.equal(answer(1.2).reason, 'too many requests; retry-after=2', 'rounds up')
  t.equal(answer(0).reason, 'too many requests; retry-after=1', 'at least 1')
  t.equal(answer(-5).reason, 'too many requests; retry-after=1', 'at least 1')
  t.strictSame(answer(), { code: 4429, reason: 'too many requests' }, 'no hint without retryAfter')
  t.equal(answer(Number.NaN).reason, 'too many requests', 'NaN is left out')
  t.equal(answer(Number.POSITIVE_INFINITY).reason, 'too many requests', 'Infinity is left out')
  t.ok(Buffer.byteLength(answer(Number.MAX_SAFE_INTEGER).reason) <= 123, 'the longest hint fits a close reason')
  t.strictSame(closeAnswer(new WsAuthError('invalid', undefined, { retryAfter: 10 })), { code: 4401, reason: 'invalid token' },
    'ignored outside 4429')
})

t.test('basicChallenge', async (t) => {
  t.equal(basicChallenge('wsauth'), 'Basic realm="wsauth", charset="UTF-8"')
  t.equal(basicChallenge('a "b" \\c'), 'Basic realm="a \\"b\\" \\\\c", charset="UTF-8"')
})
