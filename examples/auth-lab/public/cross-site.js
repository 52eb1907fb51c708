// The cross-site row: runs on the lab's page server reached as 127.0.0.1, another site than the apps on localhost.
// Takes the token from the lab page that opened it (and only from that page), tries the methods it names, and posts
// the results back; the lab page closes this window once it has them.
import { tryRow } from './attempt.js'

const status = document.getElementById('status')
document.getElementById('here').textContent = window.location.origin
const setup = await (await fetch('/lab/setup')).json()
const labOrigin = setup.pageOrigins.sameSite
let started = false

window.addEventListener('message', async (event) => {
  if (event.origin !== labOrigin || event.source !== window.opener || event.data?.type !== 'lab:run' || started) return
  started = true
  status.dataset.state = 'running'
  status.textContent = 'Trying the cookie from another site…'
  const methods = setup.methods.filter((method) => setup.crossSiteMethods.includes(method.id))
  const rows = []
  for (const method of methods) rows.push(await tryRow(setup, method, event.data.token))
  window.opener.postMessage({ type: 'lab:results', rows }, labOrigin)
  status.dataset.state = 'done'
  status.textContent = 'Done: the results are on the lab page, which closes this window.'
})
window.opener?.postMessage({ type: 'lab:ready' }, labOrigin)
