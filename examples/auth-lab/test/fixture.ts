import type { Test } from 'tap'
import { startExample, type RunningServer } from '../../../test/helpers/example.ts'
import { freePortRange } from '../../../test/helpers/port.ts'
import { METHODS, type MethodId } from '../src/methods.ts'

export interface LabFixture {
  server: RunningServer
  base: number
  /** The page as a person opens it: `http://localhost:<base>`. */
  pageUrl: string
  /** A method app's origin, `http://localhost:<port>` (or `ws://` with `scheme`). */
  appOrigin (method: MethodId, scheme?: 'http' | 'ws'): string
  /** An access token for the demo user, from the page server's `POST /token`. */
  token (): Promise<string>
}

/**
 * Starts the lab as `pnpm start` runs it, on a free range of seven ports (the page and six apps), and stops it in
 * teardown.
 */
export async function startLab (t: Test, env: Record<string, string> = {}): Promise<LabFixture> {
  const base = await freePortRange(7)
  const server = await startExample('auth-lab', { LAB_PORT_BASE: String(base), ...env })
  t.teardown(() => server.stop())
  const offsetOf = (id: MethodId): number => METHODS.find((method) => method.id === id)!.portOffset
  return {
    server,
    base,
    pageUrl: `http://localhost:${base}`,
    appOrigin: (method, scheme = 'http') => `${scheme}://localhost:${base + offsetOf(method)}`,
    async token () {
      const response = await fetch(`http://127.0.0.1:${base}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'password', username: 'johndoe', password: 'secret' }),
      })
      if (!response.ok) throw new Error(`POST /token answered ${response.status}`)
      return ((await response.json()) as { access_token: string }).access_token
    },
  }
}
