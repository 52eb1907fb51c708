// Tickets from a real page in headless Chromium, on another origin than the server's: the preflight for the
// Authorization header, the ticket in a subprotocol (Chromium fails a 101 that names no protocol when it offered some,
// and must never be handed the ticket back), in the query, and a second use seen by the page as 4401 in close mode.
import t from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import wsBearer from '@wsauth/ws-bearer'
import subprotocolToken from '@wsauth/subprotocol-token'
import ticket from '@wsauth/ticket'
import { launchChromium } from '../helpers/browser.ts'
import { freePort } from '../helpers/port.ts'
import { SECRET } from '../helpers/index.ts'

interface PageRun {
  /** The status of POST /ws-ticket, or the error fetch threw. */
  minted: number | string
  opened: boolean
  protocol: string | null
  messages: string[]
  close: { code: number, reason: string } | null
}

// Plain JavaScript, run by the page: mints a ticket (or reuses the last one), opens the socket with it, and reports
// what it saw. A minute bounds a broken run, far above any delay of a busy machine.
const PAGE = `<!doctype html>
<title>ticket</title>
<script>
let last = null
globalThis.run = async (server, token, path, how, reuse) => {
  const seen = { minted: 0, opened: false, protocol: null, messages: [], close: null }
  if (!reuse) {
    try {
      const answer = await fetch(server + '/ws-ticket', { method: 'POST', headers: { authorization: 'Bearer ' + token } })
      seen.minted = answer.status
      last = (await answer.json()).ticket
    } catch (error) {
      seen.minted = String(error)
      return seen
    }
  }
  const url = server.replace('http', 'ws') + path + (how === 'query' ? '?ticket=' + last : '')
  const ws = new WebSocket(url, how === 'query' ? [] : ['echo.v1', 'wsauth.ticket.' + last])
  return await new Promise((resolve) => {
    const bound = setTimeout(() => { ws.close(); resolve(seen) }, 60000)
    ws.onopen = () => { seen.opened = true; seen.protocol = ws.protocol }
    ws.onmessage = (event) => { seen.messages.push(event.data); ws.close(1000) }
    ws.onclose = (event) => { clearTimeout(bound); seen.close = { code: event.code, reason: event.reason }; resolve(seen) }
  })
}
</script>`

t.test('a page on an allowed origin mints a ticket across origins and opens its socket with it', async (t) => {
  const port = await freePort()
  const pageOrigin = `http://localhost:${port}`
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  await app.register(fastifyJwt, { secret: SECRET })
  await app.register(fastifyWebsocket)
  await app.register(wsBearer, { origins: [pageOrigin] })
  await app.register(subprotocolToken, { protocols: ['echo.v1'] })
  await app.register(ticket)
  const welcome = (socket: { send (text: string): void }, request: { identity: { subject: string, transport: string } | null }): void => {
    socket.send(`Welcome ${request.identity!.subject} by ${request.identity!.transport}!`)
  }
  app.get('/ws', { websocket: true, config: { wsAuth: { protocols: ['echo.v1'] } } }, welcome)
  app.get('/close-mode', { websocket: true, config: { wsAuth: { mode: 'close', protocols: ['echo.v1'] } } }, welcome)
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE))
  await app.listen({ port, host: '127.0.0.1' })
  const token = (app as unknown as { jwt: { sign (payload: object): string } }).jwt.sign({ sub: 'alice' })

  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const page = await chromium.browser.newPage()
  // The page's origin is localhost; the server it talks to is 127.0.0.1: another origin, so fetch preflights.
  await page.goto(`${pageOrigin}/`)
  await page.waitForFunction(() => 'run' in globalThis)
  const run = (path: string, how: 'query' | 'subprotocol', reuse = false): Promise<PageRun> => page.evaluate(
    ([server, token, path, how, reuse]) =>
      (globalThis as unknown as { run (...args: unknown[]): Promise<PageRun> }).run(server, token, path, how, reuse),
    [`http://127.0.0.1:${port}`, token, path, how, reuse] as const)

  t.strictSame(await run('/ws', 'subprotocol'), {
    minted: 200, opened: true, protocol: 'echo.v1', messages: ['Welcome alice by ticket!'], close: { code: 1000, reason: '' },
  }, 'by subprotocol: the 101 echoes echo.v1, and Chromium accepts it')
  t.strictSame(await run('/close-mode', 'subprotocol', true), {
    minted: 0, opened: true, protocol: 'echo.v1', messages: [], close: { code: 4401, reason: 'invalid token' },
  }, 'the same ticket again: the page sees 4401')
  t.strictSame(await run('/ws', 'query'), {
    minted: 200, opened: true, protocol: '', messages: ['Welcome alice by ticket!'], close: { code: 1000, reason: '' },
  }, 'by query')
})
