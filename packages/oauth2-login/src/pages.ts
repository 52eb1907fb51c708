import { randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** The sessionStorage key the sign-in page leaves the one-time code under, for the app's page to exchange. */
export const CODE_STORAGE_KEY = 'wsauth.oauth2-login.code'

function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

/** A value inside an inline script: JSON, with `<` escaped so no `</script>` can end the block. */
function scriptValue (value: string): string {
  return JSON.stringify(value).replace(/</g, '\\u003c')
}

/** Whether the client asked for JSON rather than a page (a script or a test; browsers navigating ask for HTML). */
export function wantsJson (request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? ''
  return accept.includes('application/json') && !accept.includes('text/html')
}

// Pages that carry a code, or answer a sign-in, are never cached, framed, or sent as a Referer.
function secureHeaders (reply: FastifyReply, scriptNonce: string | null): FastifyReply {
  const scripts = scriptNonce === null ? '' : ` script-src 'nonce-${scriptNonce}';`
  return reply
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', `default-src 'none';${scripts} style-src 'unsafe-inline'; frame-ancestors 'none'`)
    .type('text/html; charset=utf-8')
}

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}' +
  'a{margin-right:1rem}.error{background:#fee2e2;color:#991b1b;border-radius:6px;padding:.5rem .75rem}'

function page (title: string, body: string, scriptNonce?: string, script?: string): string {
  const scriptBlock = script === undefined ? '' : `<script nonce="${scriptNonce}">${script}</script>`
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>${body}${scriptBlock}</body></html>`
}

/**
 * The end of a sign-in: a page that leaves the one-time code in this tab's sessionStorage and goes on to `next`,
 * whose script exchanges it at `POST /token`. The code travels in the page's body only: never in a URL, a fragment,
 * a Referer or the history.
 */
export function sendSignedIn (reply: FastifyReply, code: string, next: string): FastifyReply {
  const nonce = randomBytes(16).toString('base64url')
  const script = `sessionStorage.setItem(${scriptValue(CODE_STORAGE_KEY)}, ${scriptValue(code)}); location.replace(${scriptValue(next)})`
  return secureHeaders(reply, nonce).send(page('Signing in…', '<p>Signing in…</p><noscript><p>Signing in needs JavaScript.</p></noscript>', nonce, script))
}

export interface FailurePage {
  title: string
  description: string
  /** Where "Start again" leads (the sign-in's start route). */
  retry: string
  /** Where "Back" leads (the app's page). */
  back: string
}

export function sendFailurePage (reply: FastifyReply, status: number, failure: FailurePage): FastifyReply {
  const body = `<p class="error" role="alert">${escapeHtml(failure.description)}</p>` +
    `<p><a href="${escapeHtml(failure.retry)}">Start again</a><a href="${escapeHtml(failure.back)}">Back</a></p>`
  return secureHeaders(reply, null).code(status).send(page(failure.title, body))
}
