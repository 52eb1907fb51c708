// Tokens in Sec-WebSocket-Protocol, offered by real headless Chromium with `new WebSocket(url, protocols)`: Chromium
// fails a 101 that names no protocol when it offered some, so these show the server always echoes the application
// protocol (or the JEP 121 marker), and that a page in close mode learns why it was refused.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import t from 'tap'
import type { Page } from 'playwright-core'
import subprotocolToken, { JUPYTER_MARKER, subprotocolsWithToken, tokenSubprotocol } from '@wsauth/subprotocol-token'
import { launchChromium } from '../helpers/browser.ts'
import { FORMATS } from '@wsauth/subprotocol-token/protocol'
import { build } from '../helpers/index.ts'

interface PageSocket {
  opened: boolean
  /** `ws.protocol` once open. */
  protocol: string | null
  messages: string[]
  error: boolean
  close: { code: number, reason: string } | null
}

// Plain JavaScript, run by the page: opens a socket, answers the welcome with `hi`, closes after the echo, and reports
// everything the page saw. A socket that neither closes nor fails within a minute (a bound for a broken run, far above
// any delay of a busy machine) is reported as it stands (close: null).
// The import map resolves the one import of the helpers' module, as a bundler would.
const PAGE = `<!doctype html>
<title>subprotocol</title>
<script type="importmap">{ "imports": { "@wsauth/core/syntax": "/syntax.js" } }</script>
<script>
globalThis.connect = (url, protocols) => new Promise((resolve) => {
  const seen = { opened: false, protocol: null, messages: [], error: false, close: null }
  const ws = new WebSocket(url, protocols)
  const bound = setTimeout(() => { ws.close(); resolve(seen) }, 60000)
  ws.onopen = () => { seen.opened = true; seen.protocol = ws.protocol }
  ws.onerror = () => { seen.error = true }
  ws.onmessage = (event) => {
    seen.messages.push(event.data)
    if (seen.messages.length === 1) ws.send('hi')
    else ws.close(1000)
  }
  ws.onclose = (event) => {
    clearTimeout(bound)
    seen.close = { code: event.code, reason: event.reason }
    resolve(seen)
  }
})
</script>`

function connect (page: Page, url: string, protocols: string[]): Promise<PageSocket> {
  return page.evaluate(([url, protocols]) =>
    (globalThis as unknown as { connect (url: string, protocols: string[]): Promise<PageSocket> }).connect(url, protocols),
  [url, protocols] as const)
}

// The browser build of the helpers and of the one module it imports, exactly as the packages export them.
const require = createRequire(import.meta.url)
const protocolModule = await readFile(require.resolve('@wsauth/subprotocol-token/protocol'), 'utf8')
const syntaxModule = await readFile(require.resolve('@wsauth/core/syntax'), 'utf8')

t.test('headless Chromium offers a token as a subprotocol', async (t) => {
  const fx = await build(t, {
    plugins: async (app) => { await app.register(subprotocolToken, { protocols: ['echo.v1'] }) },
    routes: (app) => {
      app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE))
      app.get('/protocol.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(protocolModule))
      app.get('/syntax.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(syntaxModule))
    },
  })
  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const page = await chromium.browser.newPage()
  await page.goto(`http://127.0.0.1:${fx.port}/`)
  await page.waitForFunction(() => 'connect' in globalThis)
  const token = fx.sign({ sub: 'alice' })
  const welcomed: PageSocket = {
    opened: true, protocol: 'echo.v1', messages: ['Welcome alice!', 'You wrote: hi'], error: false, close: { code: 1000, reason: '' },
  }

  for (const format of FORMATS) {
    t.test(`${format}: opens with ws.protocol === 'echo.v1'`, async (t) => {
      t.strictSame(await connect(page, fx.url(), ['echo.v1', tokenSubprotocol(token, format)]), welcomed, 'token last')
      t.strictSame(await connect(page, fx.url(), [tokenSubprotocol(token, format), 'echo.v1']), welcomed, 'token first')
    })
  }

  t.test('the JEP 121 marker: ws.protocol is the marker', async (t) => {
    t.strictSame(await connect(page, fx.url(), [JUPYTER_MARKER, tokenSubprotocol(token, 'jupyter')]), { ...welcomed, protocol: JUPYTER_MARKER })
  })

  t.test('close mode, an invalid token: the page sees 4401 in onclose', async (t) => {
    for (const format of FORMATS) {
      const seen = await connect(page, fx.url('/close-mode'), ['echo.v1', tokenSubprotocol('not-a-jwt', format)])
      t.strictSame(seen, { opened: true, protocol: 'echo.v1', messages: [], error: false, close: { code: 4401, reason: 'invalid token' } }, format)
    }
  })

  t.test('what a page sees when nothing can be echoed: a failed handshake, 1006', async (t) => {
    const failed: PageSocket = { opened: false, protocol: null, messages: [], error: true, close: { code: 1006, reason: '' } }
    // HTTP mode: refused with 400 before the upgrade (a token with no application protocol).
    t.strictSame(await connect(page, fx.url(), [tokenSubprotocol(token, 'wsauth')]), failed, 'a token alone')
    // Close mode upgrades, but the marker is never echoed for a refused token, so Chromium fails the 101 itself.
    t.strictSame(await connect(page, fx.url('/close-mode'), [JUPYTER_MARKER, tokenSubprotocol('not-a-jwt', 'jupyter')]), failed,
      'the marker with an invalid token, in close mode')
  })

  t.test('the page builds its offer with @wsauth/subprotocol-token/protocol: the same protocols as in Node', async (t) => {
    const awkward = 'jürgen ✓ 🔑 f(o)o a+b/c='
    for (const format of FORMATS) {
      const [awkwardOffer, jwtOffer] = await page.evaluate(async ([tokens, format]) => {
        const helpers = await import('/protocol.js' as string) as { subprotocolsWithToken (token: string, format: string, protocols: string[]): string[] }
        return tokens.map((token) => helpers.subprotocolsWithToken(token, format, ['echo.v1']))
      }, [[awkward, token], format] as const)
      t.strictSame(awkwardOffer, subprotocolsWithToken(awkward, format, ['echo.v1']), `${format}: the same offer as Node builds`)
      t.strictSame(await connect(page, fx.url(), jwtOffer!), welcomed, `${format}: the page's own offer opens`)
    }
  })

  t.test('the server still serves the page\'s next socket', async (t) => {
    t.strictSame(await connect(page, fx.url(), ['echo.v1', tokenSubprotocol(token, 'wsauth')]), welcomed)
  })
})
