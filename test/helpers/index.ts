// The shared test kit. Every test in the repo (packages/*/test, examples/*/test, test/) takes what it shares from
// here, never from another package's test folder; a fixture that only its own package uses stays in that package.
//
// - app.ts: `build(t, options)`, the generic app: @fastify/jwt (SECRET), @fastify/websocket, the guard, any plugins
//   (`plugins: async (app) => { await app.register(...) }`), and the routes `/ws` (welcome and echo), `/identity`,
//   `/open` (outside the guard), `/close-mode`, on 127.0.0.1 and a free port, closed in teardown. `bearer`/`basic`
//   build the handshake's Authorization header; `stillServes(t, fx)` proves a good handshake still gets in.
// - jwt.ts: the secrets (SECRET, OTHER_SECRET), `craftJwt` for any header, payload and key (or none), and
//   `claimsOf` to read back what a token says (unverified).
// - refusal.ts: `assertRefused` (status, WWW-Authenticate, body), `closedOnOpen` (close mode: code and reason, and
//   that nothing leaked first), the challenge strings.
// - ws.ts: a real `ws` client over TCP: `connect`, `opened`, `refused`, `nextMessage`, `closed`, `rawHandshake`, `sendUnmaskedFrame`,
//   `echoesThenCloses`.
// - log.ts: `logCollector`, a stream that keeps Fastify's log lines.
// - origins.ts: the allowed Origin and the lookalikes an exact allowlist must refuse.
// - store-conformance.ts: the SingleUseStore, FailureCounter, DenyList and RevocationBus contracts' tests, the same way.
// - refresh-token-store.ts: `refreshTokenStoreConformance(t, makeStore)`, the RefreshTokenStore contract's tests, for
//   every implementation (the memory store in packages/core, a Redis one with the same suite).
// Not re-exported here, for the tests that need them: browser.ts (headless Chromium), example.ts (an example app,
// spawned as its start script runs it; secured-echo.ts for that one), redis.ts (a redis-server of the test's own on a
// free port, keeping nothing on disk) and port.ts (`freePort`, for a server whose Origin allowlist names its port).
//
// Time: no test may race the wall clock. Expiry is tested with the guard's injected `clock` (`guard: { clock }`), and
// tokens live for minutes (`expiresIn: 600`) so that no delay on a busy machine reaches their `exp`.
export * from './app.ts'
export * from './jwt.ts'
export * from './log.ts'
export * from './origins.ts'
export * from './refresh-token-store.ts'
export * from './store-conformance.ts'
export * from './refusal.ts'
export * from './ws.ts'
