// "Sign in with the dev provider" in headless Chromium: the provider's own sign-in and consent pages, back to the
// chat, which exchanges the one-time code for the same tokens a password sign-in gets, and chats as alice.
import t from 'tap'
import { exampleClients } from '../../dev-idp/src/clients.ts'
import { launchChromium } from '../../../test/helpers/browser.ts'
import { startIdp } from '../../../test/helpers/oidc.ts'
import { freePort } from '../../../test/helpers/port.ts'
import { startNode } from './fixture.ts'
import { ChatPage } from './page.ts'

t.test('alice signs in with the dev provider and chats', async (t) => {
  const idp = await startIdp(t, { clients: exampleClients() })
  const port = await freePort()
  const node = await startNode(t, {
    config: {
      port,
      allowedOrigins: [`http://127.0.0.1:${port}`],
      oidc: { issuer: idp.issuer, clientId: 'secured-chat', clientSecret: undefined, providerName: 'the dev provider' },
    },
  })
  const chromium = await launchChromium()
  t.teardown(() => chromium.close())
  const chat = await ChatPage.open(await chromium.browser.newContext(), `${node.origin}/`)

  await chat.page.getByRole('link', { name: 'Sign in with the dev provider' }).click()
  await chat.page.waitForURL(`${idp.issuer}/interaction/**`)
  await chat.page.getByLabel('Username').fill('alice')
  await chat.page.getByLabel('Password').fill('wonderland')
  await chat.page.getByRole('button', { name: 'Sign in' }).click()
  await chat.page.getByRole('button', { name: 'Allow' }).click()
  await chat.page.waitForURL(`${node.origin}/`)
  await chat.seesOnline(['alice (you)'])
  await chat.say('signed in through the provider')
  await chat.sees('signed in through the provider')
  t.match(await chat.rooms.innerText(), /admins\s+locked/, 'the provider gives the chat scope, not admin')
  t.equal(await chat.page.evaluate("sessionStorage.getItem('wsauth.oauth2-login.code')"), null, 'the one-time code was used and taken out')

  // Her refresh token works like a password user's: the provider user is a user of the chat's store.
  const response = await fetch(`${node.origin}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: await chat.refreshToken() }) })
  t.equal(response.status, 200, 'a provider user\'s session refreshes')
})

t.test('without OIDC_ISSUER: no provider button, no sign-in route', async (t) => {
  const node = await startNode(t)
  const html = await (await fetch(`${node.origin}/`)).text()
  t.match(html, /<div id="provider" class="provider" hidden>/, 'the provider block stays hidden')
  t.equal((await fetch(`${node.origin}/login/oidc`, { redirect: 'manual' })).status, 404)
})
