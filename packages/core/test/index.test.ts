import t from 'tap'
import * as core from '@wsauth/core'

t.test('the public API, exactly', async (t) => {
  t.strictSame(Object.keys(core).sort(), [
    'CREDENTIAL_WORDS',
    'DEFAULT_MAX_CREDENTIAL_LENGTH',
    'MemoryDenyList',
    'MemoryFailureCounter',
    'MemoryRefreshTokenStore',
    'MemoryRevocationBus',
    'MemorySingleUseStore',
    'OUTCOMES',
    'OptionsReader',
    'OriginAllowlist',
    'REDACTED',
    'RETRY_AFTER_REASON',
    'UNAVAILABLE_RETRY_AFTER',
    'WsAuthError',
    'WsAuthOptionsError',
    'basicChallenge',
    'closeAnswer',
    'decodeBasic',
    'encodeBasic',
    'headerLines',
    'httpAnswer',
    'isToken',
    'isToken68',
    'isWsAuthError',
    'isWsAuthStores',
    'memoryStores',
    'normaliseOrigin',
    'parseAuthorization',
    'parseRevocation',
    'readOptions',
    'redactQuery',
    'redactQueryInText',
    'redactedRequestSerializer',
    'redactingLoggerOptions',
    'toWsAuthError',
  ])
})

t.test('@wsauth/core/syntax: the token rules, for browser modules', async (t) => {
  const syntax = await import('@wsauth/core/syntax')
  t.strictSame(Object.keys(syntax).sort(), ['isToken', 'isToken68'])
  t.equal(syntax.isToken, core.isToken, 'the same functions as the main entry point')
})
