import { Writable } from 'node:stream'

/** A Writable that keeps every log line Fastify writes. */
export function logCollector (): { stream: Writable, lines: string[] } {
  const lines: string[] = []
  let pending = ''
  const stream = new Writable({
    write (chunk: Buffer | string, _encoding, callback) {
      pending += String(chunk)
      let newline = pending.indexOf('\n')
      while (newline !== -1) {
        lines.push(pending.slice(0, newline))
        pending = pending.slice(newline + 1)
        newline = pending.indexOf('\n')
      }
      callback()
    },
  })
  return { stream, lines }
}
