import t from 'tap'
import * as core from '@wsauth/core'

t.test('the public API, exactly', async (t) => {
  t.strictSame(Object.keys(core).sort(), [
    'DEFAULT_MAX_CREDENTIAL_LENGTH',
    'MemoryDenyList',
    'MemoryFailureCounter',
    'OUTCOMES',
    'OriginAllowlist',
    'REDACTED',
    'WsAuthError',
    'basicChallenge',
    'closeAnswer',
    'decodeBasic',
    'encodeBasic',
    'headerLines',
    'httpAnswer',
    'isWsAuthError',
    'normaliseOrigin',
    'parseAuthorization',
    'redactQuery',
    'redactQueryInText',
    'redactedRequestSerializer',
    'redactingLoggerOptions',
    'toWsAuthError',
  ])
})
