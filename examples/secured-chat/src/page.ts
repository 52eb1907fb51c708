import { readFile } from 'node:fs/promises'
import type { FastifyInstance } from 'fastify'

const PUBLIC = new URL('../public/', import.meta.url)

// The page loads nothing from elsewhere, and nothing may frame it.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ')

interface Asset { path: string, file: URL, type: string }

const ASSETS: Asset[] = [
  { path: '/', file: new URL('index.html', PUBLIC), type: 'text/html; charset=utf-8' },
  { path: '/app.js', file: new URL('app.js', PUBLIC), type: 'text/javascript; charset=utf-8' },
  { path: '/style.css', file: new URL('style.css', PUBLIC), type: 'text/css; charset=utf-8' },
  { path: '/favicon.svg', file: new URL('favicon.svg', PUBLIC), type: 'image/svg+xml' },
  // @wsauth/client's browser bundle, as the package builds and exports it.
  { path: '/wsauth-client.js', file: new URL(import.meta.resolve('@wsauth/client/browser')), type: 'text/javascript; charset=utf-8' },
]

function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

/** The sign-in page's "Sign in with …" link, shown when a provider is configured. */
function withProvider (html: string, providerName: string): string {
  return html
    .replace('<div id="provider" class="provider" hidden>', '<div id="provider" class="provider">')
    .replace('>Sign in with the dev provider</a>', `>Sign in with ${escapeHtml(providerName)}</a>`)
}

export interface PageOptions {
  /** The provider of "Sign in with …", or `null` for none. */
  providerName: string | null
}

/** The page: plain HTML, CSS and JS, read once at startup. */
export async function registerPage (app: FastifyInstance, options: PageOptions): Promise<void> {
  for (const asset of ASSETS) {
    const file = await readFile(asset.file)
    const body = asset.path === '/' && options.providerName !== null ? withProvider(String(file), options.providerName) : file
    app.get(asset.path, async (_request, reply) => reply
      .type(asset.type)
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(body))
  }
}
