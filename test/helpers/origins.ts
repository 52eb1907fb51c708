/** The Origin that tests allow. */
export const ALLOWED_ORIGIN = 'http://localhost:8000'

/**
 * Origins an exact allowlist of `http://localhost:8000` must refuse: foreign, lookalikes, `null`, another scheme,
 * port or host, and spellings a browser never sends (upper case, a trailing slash).
 */
export const REFUSED_ORIGINS: readonly string[] = [
  'http://evil.test',
  'http://localhost:8000.evil.test',
  'http://evil.localhost:8000',
  'null',
  'https://localhost:8000',
  'http://localhost:8001',
  'http://localhost',
  'http://127.0.0.1:8000',
  'http://LOCALHOST:8000',
  'http://localhost:8000/',
]
