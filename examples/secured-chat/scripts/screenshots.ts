// Takes the README's screenshots: the sign-in page, and a chat of two people (johndoe on a desktop, janedoe on a
// 375 px phone), from a real server and headless Chromium. Run with `pnpm --dir examples/secured-chat screenshots`.
import { launchChromium } from '../../../test/helpers/browser.ts'
import { freePort } from '../../../test/helpers/port.ts'
import { buildApp } from '../src/app.ts'
import { configFromEnv } from '../src/config.ts'
import { ChatPage } from '../test/page.ts'

const docs = new URL('../docs/', import.meta.url)
const port = await freePort()
const origin = `http://127.0.0.1:${port}`
const server = await buildApp(configFromEnv({ PORT: String(port), LOG_LEVEL: 'warn' }, () => 'screenshots-secret-long-enough-for-hs256'))
await server.listen({ host: '127.0.0.1', port })

const chromium = await launchChromium()
try {
  const desktop = { viewport: { width: 1100, height: 680 }, deviceScaleFactor: 1 }
  const signIn = await ChatPage.open(await chromium.browser.newContext(desktop), `${origin}/`)
  await signIn.page.getByRole('textbox', { name: 'Username' }).fill('johndoe')
  await signIn.page.screenshot({ path: new URL('sign-in.png', docs).pathname })

  const john = await ChatPage.open(await chromium.browser.newContext(desktop), `${origin}/`)
  const jane = await ChatPage.open(await chromium.browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 1 }), `${origin}/`)
  await john.signIn('johndoe', 'secret')
  await jane.signIn('janedoe', 'secret2')
  await john.seesOnline(['janedoe', 'johndoe (you)'])
  const conversation: Array<[ChatPage, string]> = [
    [john, 'Morning! Did the deploy go out?'],
    [jane, 'It did. Both nodes picked it up, and nobody got signed out.'],
    [john, 'Nice. The tokens refreshed in the middle of it and the chat didn\'t even blink.'],
    [jane, 'That is the whole point of in-band refresh.'],
  ]
  for (const [person, text] of conversation) {
    await person.say(text)
    await john.sees(text)
    await jane.sees(text)
  }
  await john.page.screenshot({ path: new URL('chat.png', docs).pathname })
  await jane.page.screenshot({ path: new URL('chat-phone.png', docs).pathname })
  console.log(`screenshots written to ${docs.pathname}`)
} finally {
  await chromium.close()
  await server.close()
}
