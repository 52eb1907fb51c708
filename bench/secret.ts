export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret'
