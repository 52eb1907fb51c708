// One try of one method from this page: prepare the credential the method's way, open the WebSocket, and report what
// the page saw and what the app's guard saw. Shared by the lab page and the cross-site page.
import { clearSessionCookie, setSessionCookie } from '/cookie-client.js'

// A socket that neither closes nor answers in this long is reported as it stands: a bound for a broken run only.
const SOCKET_BOUND_MS = 30000

function base64url (text) {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** The signed-in token with its signature replaced: well-formed, correctly encoded, and not valid. */
export function badTokenOf (token) {
  const [header, payload] = token.split('.')
  return `${header}.${payload}.${'A'.repeat(43)}`
}

async function lastSeen (method) {
  const response = await fetch(`${method.origin}/lab/seen`)
  return (await response.json()).last
}

async function seenAfter (method, seq) {
  const response = await fetch(`${method.origin}/lab/seen?after=${seq}`)
  return (await response.json()).attempts
}

/** Asks the app whether `credential` is in its log: `found` or `not found`. */
export async function checkLog (method, credential) {
  const response = await fetch(`${method.origin}/lab/log-check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ credential }),
  })
  return (await response.json()).log
}

/** Opens the socket and settles on the welcome (then closes it) or on the close, with everything the page saw. */
function openSocket (url, protocols, authMessage) {
  return new Promise((resolve) => {
    const seen = { opened: false, welcome: null, protocol: null, close: null, thrown: null }
    let socket
    try {
      socket = new WebSocket(url, protocols)
    } catch (error) {
      seen.thrown = error.name
      resolve(seen)
      return
    }
    const bound = setTimeout(() => { socket.close(); resolve(seen) }, SOCKET_BOUND_MS)
    socket.addEventListener('open', () => {
      seen.opened = true
      seen.protocol = socket.protocol
      if (authMessage !== null) socket.send(JSON.stringify({ type: 'auth', token: authMessage }))
    })
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(event.data)
      if (message.type !== 'welcome') return
      seen.welcome = message
      socket.close(1000)
    })
    socket.addEventListener('close', (event) => {
      clearTimeout(bound)
      seen.close = { code: event.code, reason: event.reason }
      resolve(seen)
    })
  })
}

/** The cookie method's step before the socket: a clean slate, then the iframe exchange. */
async function prepareCookie (method, setup, token) {
  const endpoint = `${method.origin}${setup.cookiePrefix}`
  await clearSessionCookie(endpoint).catch(() => {})
  try {
    await setSessionCookie(endpoint, token)
    return { ok: true, failure: null, secret: null }
  } catch (error) {
    return { ok: false, failure: `cookie not set: ${error.error ?? String(error)}`, secret: null }
  }
}

/** The ticket method's step before the socket: the token buys a single-use ticket on the app's origin. */
async function mintTicket (method, setup, token) {
  const response = await fetch(`${method.origin}${setup.ticketPath}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  const body = await response.json().catch(() => ({}))
  if (!response.ok) return { ok: false, failure: `no ticket: ${response.status} ${body.error ?? ''}`.trim(), secret: null }
  return { ok: true, failure: null, secret: body.ticket }
}

/** Whether the URL holds the token (`yes`), only a single-use ticket (`ticket only`), or neither (`no`). */
function inUrl (url, token, ticket) {
  if (url.includes(token) || url.includes(encodeURIComponent(token))) return 'yes'
  return ticket !== null && url.includes(encodeURIComponent(ticket)) ? 'ticket only' : 'no'
}

/**
 * Tries `method` with `token` on its route for `mode` (`http`: refusals are HTTP answers; `close`: close codes).
 * Resolves { url, opened, welcome, protocol, close, prepared, seen, inUrl }.
 */
export async function tryMethod (setup, method, token, mode) {
  const before = await lastSeen(method)
  const route = mode === 'http' ? method.routes.http : method.routes.close
  let url = `${method.ws}${route}`
  let protocols = []
  let authMessage = null
  let prepared = null
  switch (method.id) {
    case 'first-message': authMessage = token; break
    case 'query': url += `?token=${encodeURIComponent(token)}`; break
    case 'cookie': prepared = await prepareCookie(method, setup, token); break
    case 'userinfo': url = url.replace('ws://', `ws://token:${encodeURIComponent(token)}@`); break
    case 'subprotocol': protocols = [setup.protocol, `base64url.bearer.wsauth.${base64url(token)}`]; break
    case 'ticket':
      prepared = await mintTicket(method, setup, token)
      // Without a ticket the socket is opened all the same, to show the page what a refusal looks like.
      if (prepared.ok) url += `?ticket=${encodeURIComponent(prepared.secret)}`
      break
    default: throw new Error(`no way to try ${method.id}`)
  }
  const socket = await openSocket(url, protocols, authMessage)
  const seen = await seenAfter(method, before)
  return { ...socket, prepared, seen, inUrl: inUrl(url, token, prepared?.secret ?? null) }
}

/** A method's whole row: the signed-in token on the HTTP-mode route, then a bad token on both routes, then the log. */
export async function tryRow (setup, method, token) {
  const good = await tryMethod(setup, method, token, 'http')
  const badToken = badTokenOf(token)
  const badHttp = await tryMethod(setup, method, badToken, 'http')
  const badClose = await tryMethod(setup, method, badToken, 'close')
  // A ticket is a credential too, if only for one socket: the log must hold neither.
  const credentials = [token, good.prepared?.secret].filter((credential) => typeof credential === 'string')
  const found = await Promise.all(credentials.map((credential) => checkLog(method, credential)))
  const log = found.includes('found') ? 'found' : 'not found'
  return { id: method.id, good, badHttp, badClose, log }
}
