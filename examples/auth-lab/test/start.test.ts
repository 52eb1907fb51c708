// The lab as `pnpm start` runs it: listening on the base port, the apps on the next six, and one line and a non-zero
// exit when it can't start.
import { once } from 'node:events'
import { createServer } from 'node:net'
import t from 'tap'
import { startExample } from '../../../test/helpers/example.ts'
import { freePortRange } from '../../../test/helpers/port.ts'
import { METHODS } from '../src/methods.ts'
import { startLab } from './fixture.ts'

t.test('the page on the base port and each app on its own', async (t) => {
  const lab = await startLab(t, { LOG_LEVEL: 'warn' })
  t.match(lab.server.output(), `open http://localhost:${lab.base}/`)
  t.equal((await fetch(`http://127.0.0.1:${lab.base}/`)).status, 200, 'the page')
  for (const method of METHODS) {
    const response = await fetch(`http://127.0.0.1:${lab.base + method.portOffset}/lab/seen`)
    t.equal(response.status, 200, `${method.id} on base + ${method.portOffset}`)
  }
  await lab.server.stop()
  t.match(lab.server.output(), /^auth-lab listening on/m)
})

t.test('a port of the range in use: one line, exit 1', async (t) => {
  const base = await freePortRange(7)
  const squatter = createServer()
  squatter.listen(base + 3, '127.0.0.1')
  await once(squatter, 'listening')
  t.teardown(() => squatter.close())
  await t.rejects(startExample('auth-lab', { LAB_PORT_BASE: String(base) }),
    { message: new RegExp(`exited with 1 before listening:\\n(.|\\n)*auth-lab: a port from ${base} to ${base + 6} is in use`) })
})

t.test('a bad LAB_PORT_BASE: one line, exit 1', async (t) => {
  await t.rejects(startExample('auth-lab', { LAB_PORT_BASE: '65535' }),
    { message: /exited with 1 before listening:\nauth-lab: LAB_PORT_BASE must be an integer from 1 to 65529, got "65535"\n$/ })
})
