export type { Transport, Transports, Credential, Identity } from './types.js'
export type {
  DiscoveryDocument, DiscoveryEndpoints, DiscoveryInBand, DiscoveryMessageNames, DiscoveryCloseCode, DiscoveryRoute,
  DiscoveryTransports,
} from './discovery.js'
export {
  OUTCOMES, RETRY_AFTER_REASON, UNAVAILABLE_RETRY_AFTER, WsAuthError, isWsAuthError, toWsAuthError, httpAnswer, closeAnswer, basicChallenge,
  type Outcome, type OutcomeRule, type WsAuthErrorCode, type WsAuthErrorOptions, type ChallengeOptions, type HttpAnswer,
} from './outcome.js'
export {
  DEFAULT_MAX_CREDENTIAL_LENGTH, headerLines, parseAuthorization, decodeBasic, encodeBasic,
  type AuthorizationValue, type BasicCredentials, type HeaderSource,
} from './authorization.js'
export { isToken, isToken68 } from './syntax.js'
export { OriginAllowlist, normaliseOrigin } from './origin.js'
export {
  CREDENTIAL_WORDS, REDACTED, redactQuery, redactQueryInText, redactedRequestSerializer, redactingLoggerOptions, type LoggedRequest,
} from './redact.js'
export {
  MemoryDenyList, MemoryFailureCounter,
  type DenyList, type FailureCounter, type FailureCounterOptions, type Clock,
} from './stores.js'
export {
  MemoryRefreshTokenStore,
  type IssuedAccessToken, type RefreshTokenFamily, type RefreshTokenRotation, type RefreshTokenStore,
} from './refresh-tokens.js'
export { MemorySingleUseStore, type SingleUseStore } from './single-use.js'
export { OptionsReader, WsAuthOptionsError, readOptions, type IntegerOptions } from './options.js'
export {
  MemoryRevocationBus, parseRevocation,
  type Revocation, type RevocationBus, type RevocationListener, type RevocationOutcome,
} from './bus.js'
export { isWsAuthStores, memoryStores, type FailureWindow, type WsAuthStores } from './bundle.js'
