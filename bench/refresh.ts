// Server CPU per refresh as one family is rotated 1, 1,000, 10,000 and 100,000 times, each point as a ratio to the
// first, in one run against one server process (refresh-server.ts). A refresh needs the token the previous one
// returned, so the client refreshes in sequence over one keep-alive connection. A warm-up family is rotated first,
// so the first point does not pay for the JIT. At each point the server's CPU is measured over WINDOWS windows of
// WINDOW refreshes of the family, each followed by a window of a fresh family (logged in just before): the second
// ratio compares the two at the same moment, so load from elsewhere on the machine hits both sides alike. The heap
// and RSS are read after full GCs, outside the windows.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { Agent, request } from 'node:http'
import type { RefreshMemory } from './refresh-server.ts'
import { BENCH_USER } from './secret.ts'
import { median, quantile } from './stats.ts'

const POINTS = (process.env.BENCH_POINTS ?? '1,1000,10000,100000').split(',').map(Number)
// The windows of one point stay clear of the next (9 × 100 < 1,000): each point measures the family near that count.
const WINDOW = Number(process.env.BENCH_WINDOW ?? 100)
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 9)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3000)

const agent = new Agent({ keepAlive: true, maxSockets: 1 })

function post (port: number, fields: Record<string, string>): Promise<{ status: number, body: string }> {
  const body = new URLSearchParams(fields).toString()
  return new Promise((resolve, reject) => {
    const outgoing = request({
      host: '127.0.0.1',
      port,
      path: '/token',
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { text += chunk })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }))
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

async function ask<T> (server: ChildProcess, question: 'cpu' | 'memory'): Promise<T> {
  server.send(question)
  const [answer] = await once(server, 'message') as [T]
  return answer
}

const server = fork(new URL('./refresh-server.ts', import.meta.url), {
  execArgv: ['--expose-gc', '--import', 'tsx', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof-refresh'] : [])],
})
const [{ port }] = await once(server, 'message') as [{ port: number }]

/** One family, logged in once and rotated in sequence. */
class Family {
  rotations = 0
  #refreshToken = ''

  async login (): Promise<this> {
    this.#refreshToken = await this.#token({ grant_type: 'password', ...BENCH_USER })
    return this
  }

  async rotate (times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      this.#refreshToken = await this.#token({ grant_type: 'refresh_token', refresh_token: this.#refreshToken })
      this.rotations++
    }
  }

  /** Server CPU per refresh over `times` refreshes, µs. */
  async measure (times: number): Promise<number> {
    const before = (await ask<{ cpu: number }>(server, 'cpu')).cpu
    await this.rotate(times)
    return ((await ask<{ cpu: number }>(server, 'cpu')).cpu - before) / times
  }

  async #token (fields: Record<string, string>): Promise<string> {
    const { status, body } = await post(port, fields)
    if (status !== 200) throw new Error(`POST /token: ${status} ${body}`)
    return (JSON.parse(body) as { refresh_token: string }).refresh_token
  }
}

await (await new Family().login()).rotate(WARMUP)
const family = await new Family().login()
interface Point { rotations: number, perRefresh: number[], toFresh: number[], memory: RefreshMemory }
const points: Point[] = []
for (const point of POINTS) {
  await family.rotate(Math.max(0, point - family.rotations))
  const rotations = family.rotations
  const memory = await ask<RefreshMemory>(server, 'memory')
  const perRefresh: number[] = []
  const toFresh: number[] = []
  for (let w = 0; w < WINDOWS; w++) {
    const cost = await family.measure(WINDOW)
    const fresh = await new Family().login()
    perRefresh.push(cost)
    toFresh.push(cost / await fresh.measure(WINDOW))
  }
  points.push({ rotations, perRefresh, toFresh, memory })
}
server.send('exit')
agent.destroy()

const first = points[0]!
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)
console.log(`one family rotated ${family.rotations} times in sequence (after a ${WARMUP}-rotation warm-up family); ` +
  `at each point ${WINDOWS} windows × ${WINDOW} refreshes, medians`)
console.table(points.map(({ rotations, perRefresh, toFresh, memory }) => ({
  'rotations so far': rotations,
  'server CPU µs/refresh': median(perRefresh).toFixed(1),
  'ratio to the first point': `${(median(perRefresh) / median(first.perRefresh)).toFixed(3)}×`,
  'ratio to a fresh family, same moment': `${median(toFresh).toFixed(3)}×`,
  'middle half of those': `${quantile(toFresh, 0.25).toFixed(3)}–${quantile(toFresh, 0.75).toFixed(3)}`,
  'heap MiB': mib(memory.heapUsed),
  'RSS MiB': mib(memory.rss),
  'RSS growth MiB': mib(memory.rss - first.memory.rss),
  'denylist entries': memory.denied,
})))
