import { chromium, type Browser } from 'playwright-core'

/** Debian's Chromium, as this project's machines and CI install it; never a downloaded browser build. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export interface LaunchedBrowser {
  browser: Browser
  close (): Promise<void>
}

/** Starts headless Chromium. Playwright gives every launch a fresh, temporary user-data-dir of its own. */
export async function launchChromium (): Promise<LaunchedBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  })
  return {
    browser,
    close: () => browser.close(),
  }
}
