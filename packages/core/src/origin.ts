/**
 * Exact-match Origin allowlist (RFC 6455 §10.2; OWASP: no substring or wildcard matching). Entries are
 * normalised to their serialised origin once, at startup; request values are compared as sent, so a lookalike
 * (`https://app.example.com.evil.test`), `null`, or another scheme or port never matches.
 */
export class OriginAllowlist {
  readonly origins: ReadonlySet<string>

  constructor (origins: Iterable<string>) {
    const normalised = new Set<string>()
    for (const entry of origins) normalised.add(normaliseOrigin(entry))
    this.origins = normalised
  }

  get size (): number {
    return this.origins.size
  }

  allows (origin: string | undefined): boolean {
    return origin !== undefined && this.origins.has(origin)
  }
}

/** Turns `http://Example.com:80/` into `http://example.com`; refuses wildcards, `null` and anything with a path. */
export function normaliseOrigin (entry: string): string {
  let url: URL
  try {
    url = new URL(entry)
  } catch {
    throw new TypeError(`not an origin: ${JSON.stringify(entry)}`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' ||
    url.pathname !== '/' || url.search !== '' || url.hash !== '' || entry.includes('*')) {
    throw new TypeError(`not an origin: ${JSON.stringify(entry)} (expected scheme://host[:port])`)
  }
  return url.origin
}
