import t from 'tap'
import * as core from '@wsauth/core'

t.test('the public API, exactly', async (t) => {
  t.strictSame(Object.keys(core).sort(), [
    'CREDENTIAL_WORDS',
    'DEFAULT_MAX_CREDENTIAL_LENGTH',
    'MemoryDenyList',
    'MemoryFailureCounter',
    'MemoryRefreshTokenStore',
    'MemorySingleUseStore',
    'OUTCOMES',
    'OptionsReader',
    'OriginAllowlist',
    'REDACTED',
    'RETRY_AFTER_REASON',
    'WsAuthError',
    'WsAuthOptionsError',
    'basicChallenge',
    'closeAnswer',
    'decodeBasic',
    'encodeBasic',
    'headerLines',
    'httpAnswer',
    'isWsAuthError',
    'normaliseOrigin',
    'parseAuthorization',
    'readOptions',
    'redactQuery',
    'redactQueryInText',
    'redactedRequestSerializer',
    'redactingLoggerOptions',
    'toWsAuthError',
  ])
})
