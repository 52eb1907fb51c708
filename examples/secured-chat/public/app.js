// The chat page: sign in with the password grant, then one @wsauth/client connection to /chat. The client picks the
// transport, asks `getToken` for a fresh token whenever it needs one (connect, reconnect, a 4401, an `auth.expiring`)
// and refreshes in band; this page only keeps the tokens and speaks the chat protocol. Every text a user wrote is put
// in the page with `textContent`, never as HTML.
import { connect } from '/wsauth-client.js'

const $ = (id) => document.getElementById(id)
const SESSION_KEY = 'wsauth-chat.session'
const STATE_TEXT = {
  connecting: 'Connecting…',
  authenticating: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
}
const ERROR_TEXT = {
  forbidden: (room) => `You don't have access to #${room}.`,
  rate_limited: () => 'Slow down: you are sending messages too fast.',
  unavailable: () => 'The chat is unavailable right now. Try again in a moment.',
  not_joined: (room) => `You are not in #${room}.`,
}

/** The signed-in user: the refresh token survives a reload of this tab (sessionStorage), the access token does not. */
let session = null
let client = null
let currentRoom = null
let allowedRooms = new Set()
/** Why the session ended, when the server ended it: shown on the sign-in page. */
let endReason = null
let refreshing = null

function saveSession () {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ username: session.username, refreshToken: session.refreshToken }))
}

/** What an access token says (read, not verified: the server verifies it), for its subject and expiry. */
function claimsOf (accessToken) {
  try {
    return JSON.parse(atob(accessToken.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')))
  } catch {
    return {}
  }
}

async function tokenRequest (params) {
  const response = await fetch('/token', { method: 'POST', body: new URLSearchParams(params) })
  const body = await response.json().catch(() => ({}))
  return { response, body }
}

function keepTokens (body) {
  session.accessToken = body.access_token
  session.refreshToken = body.refresh_token
  const { exp } = claimsOf(body.access_token)
  session.expiresAt = typeof exp === 'number' ? exp * 1000 : null
  saveSession()
  tickTokenLife()
}

/** A new token pair from the refresh token; one request at a time, since each refresh token is good once. */
function refresh () {
  refreshing ??= tokenRequest({ grant_type: 'refresh_token', refresh_token: session.refreshToken })
    .then(({ response, body }) => {
      if (response.ok) {
        keepTokens(body)
        return body.access_token
      }
      // The refresh token was refused (revoked, expired, spent): the session is over.
      if (response.status === 400 || response.status === 401) return null
      throw new Error(`token endpoint answered ${response.status}`)
    })
    .finally(() => { refreshing = null })
  return refreshing
}

/** The client's token source: the token we have for a first connect, a fresh one for anything else. */
async function getToken ({ reason }) {
  if (session === null) return null
  const fresh = session.accessToken !== null && session.expiresAt !== null && session.expiresAt - Date.now() > 60_000
  if (reason === 'connect' && fresh) return session.accessToken
  const token = await refresh()
  if (token === null) {
    endReason = reason === 'unauthorized'
      ? 'You were signed out: your session was revoked.'
      : 'Your session has expired. Please sign in again.'
  }
  return token
}

// Views

function showSignIn (reason) {
  $('chat-view').hidden = true
  $('signin-view').hidden = false
  $('signin-reason').textContent = reason ?? ''
  $('signin-reason').hidden = reason === undefined || reason === null
  $('signin-error').hidden = true
  $('password').value = ''
  $('username').focus()
}

function showChat () {
  $('signin-view').hidden = true
  $('chat-view').hidden = false
  $('me').textContent = session.username
  $('server').textContent = window.location.host
  $('messages').replaceChildren()
  $('online').replaceChildren()
  $('message').focus()
}

function setConnection (state) {
  $('connection').dataset.state = state
  $('connection-text').textContent = STATE_TEXT[state] ?? state
  $('transport').textContent = client?.transport ?? '–'
}

function notice (text) {
  $('room-notice').textContent = text
}

function hueOf (name) {
  let hash = 0
  for (const character of name) hash = (hash * 31 + character.codePointAt(0)) % 360
  return hash
}

function messageItem ({ from, text, at }) {
  const item = document.createElement('li')
  item.className = from === session.username ? 'message own' : 'message'
  const avatar = document.createElement('span')
  avatar.className = 'avatar'
  avatar.setAttribute('aria-hidden', 'true')
  avatar.style.setProperty('--hue', String(hueOf(from)))
  avatar.textContent = [...from][0] ?? '?'
  const meta = document.createElement('p')
  meta.className = 'meta'
  const author = document.createElement('span')
  author.className = 'author'
  author.textContent = from
  const time = document.createElement('time')
  time.className = 'time'
  time.dateTime = new Date(at).toISOString()
  time.textContent = new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
  meta.append(author, time)
  const body = document.createElement('p')
  body.className = 'text'
  body.textContent = text
  item.append(avatar, meta, body)
  return item
}

function showMessages (messages, replace) {
  const list = $('messages')
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 48
  if (replace) list.replaceChildren()
  list.querySelector('.empty')?.remove()
  list.append(...messages.map(messageItem))
  if (list.childElementCount === 0) {
    const empty = document.createElement('li')
    empty.className = 'empty'
    empty.textContent = `No messages in #${currentRoom} yet. Say hello!`
    list.append(empty)
  }
  if (replace || atBottom) list.scrollTop = list.scrollHeight
}

function showOnline (online) {
  const items = online.map((name) => {
    const item = document.createElement('li')
    item.textContent = name
    if (name === session.username) {
      const you = document.createElement('span')
      you.className = 'you'
      you.textContent = ' (you)'
      item.append(you)
    }
    return item
  })
  $('online').replaceChildren(...items)
  $('online-count').textContent = `(${online.length})`
}

function showRooms (rooms) {
  allowedRooms = new Set(rooms.filter((room) => room.allowed).map((room) => room.name))
  const items = rooms.map(({ name, allowed }) => {
    const item = document.createElement('li')
    const button = document.createElement('button')
    button.type = 'button'
    button.dataset.room = name
    const label = document.createElement('span')
    label.textContent = `# ${name}`
    button.append(label)
    if (name === currentRoom) button.setAttribute('aria-current', 'true')
    if (!allowed) {
      // Still a button: asking is allowed, and the server says why not.
      button.classList.add('locked')
      const lock = document.createElement('span')
      lock.className = 'lock'
      lock.textContent = 'locked'
      button.append(lock)
    }
    button.addEventListener('click', () => enterRoom(name))
    item.append(button)
    return item
  })
  $('rooms').replaceChildren(...items)
}

function markCurrentRoom () {
  for (const button of $('rooms').querySelectorAll('button')) {
    if (button.dataset.room === currentRoom) button.setAttribute('aria-current', 'true')
    else button.removeAttribute('aria-current')
  }
  $('room-title').textContent = `# ${currentRoom}`
  $('message').placeholder = `Message #${currentRoom}`
}

// The chat protocol

function send (message) {
  try {
    client.send(JSON.stringify(message))
  } catch {
    notice('Not connected: the message was not sent.')
  }
}

/** Moves to `room`. One the user may not enter is still asked for: the server decides, and says why not. */
function enterRoom (room) {
  notice('')
  if (room === currentRoom) return
  if (!allowedRooms.has(room)) {
    send({ type: 'join', room })
    return
  }
  if (currentRoom !== null) send({ type: 'leave', room: currentRoom })
  currentRoom = room
  markCurrentRoom()
  $('messages').replaceChildren()
  $('online').replaceChildren()
  send({ type: 'join', room })
}

function receive (message) {
  switch (message.type) {
    case 'rooms':
      // Each new socket starts with the room list: (re)join the room this page shows.
      showRooms(message.rooms)
      if (currentRoom === null || !allowedRooms.has(currentRoom)) currentRoom = 'general'
      markCurrentRoom()
      send({ type: 'join', room: currentRoom })
      break
    case 'history':
      if (message.room === currentRoom) showMessages(message.messages, true)
      break
    case 'say':
      if (message.room === currentRoom) showMessages([message], false)
      break
    case 'presence':
      if (message.room === currentRoom) showOnline(message.online)
      break
    case 'leave':
      if (message.reason === 'forbidden') {
        notice(`Your access to #${message.room} was withdrawn.`)
        if (message.room === currentRoom) {
          currentRoom = null
          enterRoom('general')
        }
      }
      break
    case 'error':
      notice((ERROR_TEXT[message.code] ?? (() => message.message))(message.room))
      break
  }
}

// Session life

function startChat () {
  endReason = null
  showChat()
  currentRoom = null
  client = connect('/chat', { getToken })
  client.addEventListener('state', (event) => setConnection(event.state))
  client.addEventListener('message', (event) => receive(JSON.parse(event.data)))
  client.addEventListener('close', (event) => {
    if (event.reason === 'client') return
    const reasons = {
      'signed-out': endReason ?? 'You were signed out.',
      forbidden: 'Your access to the chat was withdrawn.',
      'gave-up': 'The chat server could not be reached.',
    }
    endSession(reasons[event.reason] ?? `The chat closed the connection (${event.serverReason || event.code}).`)
  })
  setConnection(client.state)
}

function endSession (reason) {
  client?.close()
  client = null
  session = null
  sessionStorage.removeItem(SESSION_KEY)
  showSignIn(reason)
}

async function signOut () {
  const { refreshToken } = session
  client?.close()
  client = null
  // Revoking the refresh token ends its family and every access token issued in it: their sockets close, on every node.
  await fetch('/revoke', { method: 'POST', body: new URLSearchParams({ token: refreshToken }) }).catch(() => {})
  endSession('You have signed out.')
}

function tickTokenLife () {
  if (session === null || session.expiresAt === null) return
  const seconds = Math.max(0, Math.round((session.expiresAt - Date.now()) / 1000))
  const minutes = Math.floor(seconds / 60)
  $('token-life').textContent = `${minutes}:${String(seconds % 60).padStart(2, '0')} left`
}

/** Signs in at `POST /token` (a password, or the provider's one-time code); resolves an error to show, or null. */
async function signIn (params) {
  try {
    const { response, body } = await tokenRequest(params)
    if (response.ok) {
      session = { username: claimsOf(body.access_token).sub, accessToken: null, refreshToken: null, expiresAt: null }
      keepTokens(body)
      startChat()
      return null
    }
    if (response.status === 429) return `Too many attempts. Try again in ${response.headers.get('retry-after') ?? 'a few'} seconds.`
    if (params.grant_type === 'authorization_code') return 'The sign-in with the provider did not complete. Please try again.'
    return body.error === 'invalid_grant' ? 'Wrong username or password.' : 'Sign-in failed. Please try again.'
  } catch {
    return 'The server could not be reached.'
  }
}

function showSignInError (text) {
  $('signin-error').textContent = text
  $('signin-error').hidden = false
}

$('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const username = $('username').value.trim()
  const password = $('password').value
  if (username === '' || password === '') {
    showSignInError('Enter your username and password.')
    return
  }
  $('signin-button').disabled = true
  const error = await signIn({ grant_type: 'password', username, password })
  $('signin-button').disabled = false
  if (error !== null) showSignInError(error)
})

$('composer').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = $('message')
  const text = input.value.trim()
  if (text === '' || currentRoom === null) return
  notice('')
  send({ type: 'say', room: currentRoom, text })
  input.value = ''
})

$('signout').addEventListener('click', () => { signOut() })
setInterval(tickTokenLife, 1000)

// Back from the provider: @wsauth/oauth2-login left a one-time code in this tab, good once, for 30 seconds.
const providerCode = sessionStorage.getItem('wsauth.oauth2-login.code')
const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null')
if (providerCode !== null) {
  sessionStorage.removeItem('wsauth.oauth2-login.code')
  showSignIn()
  signIn({ grant_type: 'authorization_code', code: providerCode }).then((error) => { if (error !== null) showSignInError(error) })
} else if (stored !== null) {
  // A reload: the refresh token gets a new access token on the first connect.
  session = { username: stored.username, refreshToken: stored.refreshToken, accessToken: null, expiresAt: null }
  startChat()
} else {
  showSignIn()
}
