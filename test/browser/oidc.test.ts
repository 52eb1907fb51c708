// A person signs in to secured-echo with the dev provider in real headless Chromium: the button, the provider's own
// sign-in and consent pages, back to secured-echo, whose page exchanges the one-time code and opens its WebSocket.
import t from 'tap'
import { exampleClients } from '../../examples/dev-idp/src/clients.ts'
import { launchChromium } from '../helpers/browser.ts'
import { startIdp } from '../helpers/oidc.ts'
import { freePort } from '../helpers/port.ts'
import { startSecuredEcho } from '../helpers/secured-echo.ts'

t.test('Chromium: "Sign in with the dev provider", alice / wonderland, back signed in, the socket says Welcome alice!', async (t) => {
  // The dev provider with the clients it registers for the examples (secured-echo's, for any loopback port).
  const idp = await startIdp(t, { clients: exampleClients() })
  // A port known before the start, so secured-echo's default Origin allowlist (built from PORT) names the page's.
  const echo = await startSecuredEcho({ OIDC_ISSUER: idp.issuer, PORT: String(await freePort()) })
  t.teardown(() => echo.stop())
  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const page = await chromium.browser.newPage()
  const urls: string[] = []
  page.on('request', (request) => { urls.push(request.url()) })

  await page.goto(echo.baseUrl)
  await page.getByRole('link', { name: 'Sign in with the dev provider' }).click()
  await page.waitForURL(`${idp.issuer}/interaction/**`)
  t.equal(await page.title(), 'Sign in · wsauth dev provider')
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password').fill('wonderland')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Allow' }).click()

  await page.waitForURL(`${echo.baseUrl}/`)
  await page.getByRole('log').getByText('Welcome alice!').waitFor()
  t.pass('the page connected as alice')
  await page.getByPlaceholder('message').fill('hello')
  await page.getByRole('button', { name: 'Send' }).click()
  await page.getByRole('log').getByText('You wrote: hello').waitFor()
  t.pass('and the socket echoes')
  t.equal(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length), 0, 'the one-time code was taken out of sessionStorage')
  const withCode = urls.filter((url) => new URL(url).origin === echo.baseUrl && new URL(url).pathname !== '/login/oidc/callback')
  t.notOk(withCode.some((url) => /[?&#](code|access_token)=/.test(url)), 'the sign-in put no code or token in a page URL but the provider\'s answer')
  t.notOk(echo.output().includes(new URL(urls.find((url) => url.includes('/login/oidc/callback'))!).searchParams.get('code')!),
    'and the provider\'s code is not in the app\'s log')
})

t.test('secured-echo without OIDC_ISSUER: no button, no sign-in routes', async (t) => {
  const echo = await startSecuredEcho()
  t.teardown(() => echo.stop())
  const html = await (await fetch(echo.baseUrl)).text()
  t.notMatch(html, /Sign in with/)
  t.equal((await fetch(`${echo.baseUrl}/login/oidc`, { redirect: 'manual' })).status, 404)
})
