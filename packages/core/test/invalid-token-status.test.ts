// The Jupyter JEP 121 preset: `invalidTokenStatus: 403` changes the status of a rejected token, and nothing else.
import t from 'tap'
import { OUTCOMES, WsAuthError, closeAnswer, httpAnswer, type Outcome } from '@wsauth/core'

const ALL = Object.keys(OUTCOMES) as Outcome[]

t.test('invalidTokenStatus: 403 answers the invalid_token rows with 403, same challenge and body', async (t) => {
  for (const outcome of ALL) {
    const error = new WsAuthError(outcome, 'why')
    const standard = httpAnswer(error, { realm: 'x', basic: true })
    const jupyter = httpAnswer(error, { realm: 'x', basic: true, invalidTokenStatus: 403 })
    const rejectedToken = (OUTCOMES[outcome].status === null ? OUTCOMES.invalid : OUTCOMES[outcome]).error === 'invalid_token'
    t.equal(jupyter.status, rejectedToken ? 403 : standard.status, `${outcome}: status`)
    t.strictSame(jupyter.headers, standard.headers, `${outcome}: same headers`)
    t.strictSame(jupyter.body, standard.body, `${outcome}: same body`)
    t.strictSame(httpAnswer(error, { realm: 'x', invalidTokenStatus: 401 }), httpAnswer(error, { realm: 'x' }), `${outcome}: 401 is the default`)
  }
  t.strictSame(httpAnswer(new WsAuthError('invalid'), { realm: 'x', invalidTokenStatus: 403 }), {
    status: 403,
    headers: { 'www-authenticate': 'Bearer realm="x", error="invalid_token"' },
    body: { error: 'invalid_token', error_description: 'invalid token' },
  })
  t.equal(httpAnswer(new WsAuthError('missing'), { realm: 'x', invalidTokenStatus: 403 }).status, 401, 'no credential stays 401')
  t.equal(closeAnswer(new WsAuthError('invalid')).code, 4401, 'close codes are not the preset\'s business')
})
