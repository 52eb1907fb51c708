import { Writable } from 'node:stream'

// pino's level numbers; `silent` writes nothing.
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }
/** The record keeps lines from this level up, whatever LOG_LEVEL prints: a credential logged at debug still counts. */
export const RECORD_LEVEL = 'debug'
const KEPT_LINES = 1000

function levelNumber (name: string): number {
  const level = LEVELS[name]
  if (level === undefined) throw new Error(`LOG_LEVEL must be one of ${Object.keys(LEVELS).join(', ')}, got ${JSON.stringify(name)}`)
  return level
}

/** The lower of two level names: the level the app's logger runs at, so that the record sees its lines. */
export function loggerLevel (printed: string): string {
  return levelNumber(printed) < levelNumber(RECORD_LEVEL) ? printed : RECORD_LEVEL
}

/**
 * An app's log stream: every line goes to stdout from the printed level up, and the last lines stay in memory, so the
 * lab can say whether a credential ever reached the log. It answers that question only; the lines never leave it.
 */
export class LogRecord extends Writable {
  readonly #lines: string[] = []
  readonly #printed: number
  readonly #out: NodeJS.WritableStream
  #pending = ''

  constructor (printedLevel: string, out: NodeJS.WritableStream = process.stdout) {
    super()
    this.#printed = levelNumber(printedLevel)
    this.#out = out
  }

  override _write (chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#pending += String(chunk)
    let newline = this.#pending.indexOf('\n')
    while (newline !== -1) {
      this.#keep(this.#pending.slice(0, newline))
      this.#pending = this.#pending.slice(newline + 1)
      newline = this.#pending.indexOf('\n')
    }
    callback()
  }

  #keep (line: string): void {
    this.#lines.push(line)
    if (this.#lines.length > KEPT_LINES) this.#lines.shift()
    const { level } = JSON.parse(line) as { level: number }
    if (level >= this.#printed) this.#out.write(line + '\n')
  }

  /** Whether any kept line holds `text` in one of the forms a log could carry it: as is, percent-encoded or base64url. */
  contains (text: string): boolean {
    const forms = [text, encodeURIComponent(text), Buffer.from(text, 'utf8').toString('base64url')]
    return this.#lines.some((line) => forms.some((form) => line.includes(form)))
  }
}
