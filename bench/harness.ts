// What every handshake benchmark shares: servers forked one per process (each reports its own CPU time), and the
// client's handshake cycle (upgrade, welcome, one echo, close), run with a few sockets at once.
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import WebSocket from 'ws'
import { median, quantile, shuffled } from './stats.ts'

export interface Server { child: ChildProcess, port: number }

/** How a client presents one credential: URL path, headers and the subprotocols it offers. */
export interface Presented { path: string, headers: Record<string, string>, protocols?: string[] }

export async function startServer (script: URL, args: string[]): Promise<Server> {
  const execArgv = ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : [])]
  const child = fork(script, args, { execArgv })
  const [message] = await once(child, 'message') as [{ port: number }]
  return { child, port: message.port }
}

/** Has the server collect its garbage now (started with `--expose-gc`), and waits until it has. */
export async function collectGarbage (server: Server): Promise<void> {
  server.child.send('gc')
  await once(server.child, 'message')
}

async function cpu (server: Server): Promise<number> {
  server.child.send('cpu')
  const [message] = await once(server.child, 'message') as [{ cpu: number }]
  return message.cpu
}

function cycle (port: number, { path, headers, protocols }: Presented): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, { headers })
    let messages = 0
    socket.on('message', () => {
      messages++
      if (messages === 1) socket.send('ping')
      else socket.close(1000)
    })
    socket.on('close', () => (messages === 2 ? resolve() : reject(new Error(`closed after ${messages} messages`))))
    socket.on('error', reject)
  })
}

/**
 * The server's CPU time per cycle, in microseconds, over `cycles` cycles; cycle `i` presents `present(i)`. `prepare`
 * runs before the CPU time is read: work the cycles need that is not theirs to pay for (minting their tickets, say).
 */
export async function run (
  server: Server, cycles: number, concurrency: number, present: (i: number) => Presented, prepare?: (cycles: number) => Promise<void>
): Promise<number> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < cycles) await cycle(server.port, present(next++))
  }
  await prepare?.(cycles)
  const before = await cpu(server)
  await Promise.all(Array.from({ length: concurrency }, worker))
  return (await cpu(server) - before) / cycles
}

export interface Contender {
  name: string
  server: Server
  present: (i: number) => Presented
  /** The index of the contender to divide by (a no-auth server whose client sends the same bytes). */
  baseline: number
  /** Runs before each of this contender's runs, outside its measured CPU time. */
  prepare?: (cycles: number) => Promise<void>
}

/**
 * Each round measures every contender back to back in a shuffled order and divides by that round's baseline, so
 * load from elsewhere on the machine hits both sides of a ratio alike; the table reports the median of the per-round
 * ratios and their middle half. One warm-up run first.
 */
export async function ratioTable (contenders: Contender[], rounds: number, cycles: number, concurrency: number): Promise<Array<Record<string, string>>> {
  const perCycle: number[][] = contenders.map(() => [])
  const ratios: number[][] = contenders.map(() => [])
  for (const contender of contenders) await run(contender.server, cycles, concurrency, contender.present, contender.prepare)
  for (let round = 0; round < rounds; round++) {
    const cost: number[] = []
    for (const i of shuffled(contenders.length)) {
      const { server, present, prepare } = contenders[i]!
      cost[i] = await run(server, cycles, concurrency, present, prepare)
    }
    contenders.forEach((contender, i) => {
      perCycle[i]!.push(cost[i]!)
      ratios[i]!.push(cost[i]! / cost[contender.baseline]!)
    })
  }
  return contenders.map((contender, i) => ({
    variant: contender.name,
    'server CPU µs/cycle (median)': median(perCycle[i]!).toFixed(1),
    'ratio to its baseline (median of rounds)': `${median(ratios[i]!).toFixed(3)}×`,
    // The spread of the per-round ratios: how far one run of this table can be trusted on this machine.
    'middle half of rounds': `${quantile(ratios[i]!, 0.25).toFixed(3)}–${quantile(ratios[i]!, 0.75).toFixed(3)}`,
  }))
}
