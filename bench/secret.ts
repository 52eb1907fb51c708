export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret'
export const BENCH_COOKIE_SECRET = 'bench-cookie-secret-bench-cookie-secret'
export const BENCH_ORIGIN = 'http://localhost:8000'
export const BENCH_USER = { username: 'bench', password: 'bench password' }
export const BENCH_ISSUER = 'https://idp.bench.test'
export const BENCH_AUDIENCE = 'urn:bench:api'
