// The lab page: signs in, tries every method against its app, and fills the table with what it observed. The
// cross-site row runs in a small window on the other site (cross-site.js), which posts its results back.
import { tryRow } from './attempt.js'

const OUTCOME_WORDS = {
  missing: 'no credential',
  malformed: 'malformed credential',
  invalid: 'invalid token',
  forbidden: 'forbidden (Origin or access)',
  rate_limited: 'rate limited',
  timeout: 'no first message in time',
  expired: 'expired',
  revoked: 'revoked',
  unavailable: 'unavailable',
}

const $ = (id) => document.getElementById(id)
const form = $('signin-form')
const status = $('status')
const rows = $('rows')
const columns = [...document.querySelectorAll('#results thead th')].map((th) => th.textContent)

function setStatus (state, text) {
  status.dataset.state = state
  status.textContent = text
}

/** How the socket ended, as the page saw it. */
function ending (result) {
  if (result.thrown !== null) return `constructor threw ${result.thrown}`
  if (result.welcome !== null) {
    const over = result.protocol === '' ? '' : ` over ${result.protocol}`
    return `welcome${over}, then ${result.close?.code ?? 'no close'} (page closed it)`
  }
  if (result.close === null) return 'no answer'
  return result.close.reason === '' ? `${result.close.code}` : `${result.close.code} "${result.close.reason}"`
}

/** What the page saw: a step before the socket that failed (cookie, ticket), then how the socket ended. */
function pageSaw (result) {
  const failedStep = result.prepared !== null && !result.prepared.ok ? `${result.prepared.failure}; ` : ''
  return failedStep + ending(result)
}

/** What the guard decided for the try, in order. */
function serverSaw (result) {
  if (result.seen.length === 0) return 'nothing reached the guard'
  return result.seen.map((attempt) => attempt.result === 'authenticated'
    ? `${attempt.transport}: ${attempt.subject}`
    : `refused: ${OUTCOME_WORDS[attempt.result] ?? attempt.result}${attempt.transport === null ? '' : ` (${attempt.transport})`}`
  ).join(' → ')
}

function cell (text, name, value = text) {
  const td = document.createElement('td')
  td.dataset.cell = name
  td.dataset.value = value
  td.textContent = text
  return td
}

function methodCell (method, label) {
  const th = document.createElement('th')
  th.scope = 'row'
  th.dataset.cell = 'method'
  th.dataset.value = label
  const link = document.createElement('a')
  link.href = method.readme
  link.textContent = label
  link.title = `How ${method.label.toLowerCase()} works: the package README`
  th.append(link)
  return th
}

/** A row's cells, labelled for the narrow layout, where each row becomes a card. */
function fillRow (tr, cells) {
  tr.replaceChildren(...cells)
  cells.forEach((element, index) => { element.dataset.label = columns[index] })
}

function renderResult (tr, method, label, row) {
  const worked = row.good.welcome !== null
  tr.dataset.worked = worked ? 'yes' : 'no'
  fillRow(tr, [
    methodCell(method, label),
    cell(worked ? 'yes' : 'no', 'worked'),
    cell(pageSaw(row.good), 'page', String(row.good.close?.code ?? '')),
    cell(serverSaw(row.good), 'server'),
    cell(row.log, 'log'),
    cell(row.good.inUrl, 'url'),
    cell(pageSaw(row.badHttp), 'bad-http', String(row.badHttp.close?.code ?? '')),
    cell(pageSaw(row.badClose), 'bad-close', String(row.badClose.close?.code ?? '')),
  ])
}

/** A row the page could not try: the cross-site window was blocked or closed. */
function renderNotRun (tr, method, label, why) {
  tr.dataset.worked = 'not tried'
  const note = cell(`not tried: ${why}`, 'worked', 'not tried')
  note.colSpan = columns.length - 1
  fillRow(tr, [methodCell(method, label), note])
}

function renderPending (tr, method, label) {
  tr.dataset.worked = 'pending'
  const note = cell('trying…', 'worked', 'pending')
  note.colSpan = columns.length - 1
  fillRow(tr, [methodCell(method, label), note])
}

function addRow (method, site) {
  const tr = document.createElement('tr')
  tr.dataset.method = method.id
  tr.dataset.site = site
  rows.append(tr)
  return tr
}

const crossLabel = (method) => `${method.label}, page on 127.0.0.1 (cross-site)`

async function signIn (username, password) {
  const response = await fetch('/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }),
  })
  const body = await response.json()
  if (!response.ok) throw new Error(body.error_description ?? body.error ?? `sign-in failed (${response.status})`)
  return body.access_token
}

/** Opens the cross-site window now, inside the click, so no popup blocker stops it; it waits for the token. */
function openCrossSiteWindow (setup) {
  return window.open(`${setup.pageOrigins.crossSite}/cross-site`, 'wsauth-lab-cross-site', 'popup,width=520,height=420')
}

// How often the page looks whether a person closed the cross-site window before it answered.
const WINDOW_CHECK_MS = 500

/** The cross-site window's rows, or `null` when it was closed first. The page closes the window once it has them. */
function crossSiteResults (setup, crossWindow, token) {
  return new Promise((resolve) => {
    const settle = (rows) => {
      window.removeEventListener('message', onMessage)
      clearInterval(closedCheck)
      crossWindow.close()
      resolve(rows)
    }
    const onMessage = (event) => {
      if (event.origin !== setup.pageOrigins.crossSite || event.source !== crossWindow) return
      if (event.data?.type === 'lab:ready') crossWindow.postMessage({ type: 'lab:run', token }, setup.pageOrigins.crossSite)
      if (event.data?.type === 'lab:results') settle(event.data.rows)
    }
    const closedCheck = setInterval(() => { if (crossWindow.closed) settle(null) }, WINDOW_CHECK_MS)
    window.addEventListener('message', onMessage)
    // The window may have loaded (and said it was ready) while the other rows ran.
    crossWindow.postMessage({ type: 'lab:run', token }, setup.pageOrigins.crossSite)
  })
}

async function run (setup, crossWindow) {
  $('signin-error').hidden = true
  $('run').disabled = true
  rows.replaceChildren()
  setStatus('signing-in', 'Signing in…')
  let token
  try {
    token = await signIn(form.username.value, form.password.value)
  } catch (error) {
    crossWindow?.close()
    $('signin-error').textContent = error.message
    $('signin-error').hidden = false
    setStatus('idle', 'Sign in to run every method.')
    $('run').disabled = false
    return
  }
  const tried = setup.methods.map((method) => ({ method, tr: addRow(method, 'same'), label: method.label }))
  const crossMethods = setup.methods.filter((method) => setup.crossSiteMethods.includes(method.id))
  const crossTried = crossMethods.map((method) => ({ method, tr: addRow(method, 'cross'), label: crossLabel(method) }))
  for (const { method, tr, label } of [...tried, ...crossTried]) renderPending(tr, method, label)
  for (const { method, tr, label } of tried) {
    setStatus('running', `Trying ${method.label.toLowerCase()}…`)
    renderResult(tr, method, label, await tryRow(setup, method, token))
  }
  if (crossTried.length > 0) {
    if (crossWindow === null) {
      for (const { method, tr, label } of crossTried) renderNotRun(tr, method, label, 'the browser blocked the cross-site window')
    } else {
      setStatus('running', 'Trying the cross-site row in its window…')
      const results = await crossSiteResults(setup, crossWindow, token)
      for (const { method, tr, label } of crossTried) {
        if (results === null) renderNotRun(tr, method, label, 'the cross-site window was closed before it answered')
        else renderResult(tr, method, label, results.find((result) => result.id === method.id))
      }
    }
  }
  const worked = tried.filter(({ tr }) => tr.dataset.worked === 'yes')
  setStatus('done', `Done: ${worked.length} of ${tried.length} methods worked for ${form.username.value} in this browser.`)
  $('run').disabled = false
}

const setup = await (await fetch('/lab/setup')).json()
$('page-origin').textContent = window.location.origin
$('cross-origin').textContent = setup.pageOrigins.crossSite
if (window.location.origin !== setup.pageOrigins.sameSite) {
  setStatus('idle', `Open this page on ${setup.pageOrigins.sameSite}: the table assumes the page and the apps share a site.`)
}
form.addEventListener('submit', (event) => {
  event.preventDefault()
  const crossWindow = setup.crossSiteMethods.length > 0 ? openCrossSiteWindow(setup) : null
  run(setup, crossWindow).catch((error) => {
    setStatus('failed', `The lab stopped: ${error.message}`)
    $('run').disabled = false
  })
})
document.body.dataset.ready = 'true'
