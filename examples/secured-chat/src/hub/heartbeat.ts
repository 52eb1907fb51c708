/** Runs `beat` every `intervalMs` (0: never) without overlapping runs; failures go to `onError`. */
export class Heartbeat {
  #timer: NodeJS.Timeout | null = null
  #running = false

  start (intervalMs: number, beat: () => Promise<void>, onError: (error: unknown) => void): void {
    if (intervalMs === 0 || this.#timer !== null) return
    this.#timer = setInterval(() => {
      if (this.#running) return
      this.#running = true
      beat().catch(onError).finally(() => { this.#running = false })
    }, intervalMs)
    this.#timer.unref()
  }

  stop (): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }
}
