/** The value below which a fraction `q` of the values fall (nearest rank). */
export function quantile (values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!
}

export function median (values: number[]): number {
  return quantile(values, 0.5)
}

/** 0..count-1 in a random order, so no variant is always measured first or last in a round. */
export function shuffled (count: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i)
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
}
