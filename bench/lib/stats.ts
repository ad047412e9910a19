/** A candidate's repeated measurements, summarised as median with min–max spread. */
export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly samples: readonly number[]
}

export function spread(samples: readonly number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median =
    sorted.length === 0
      ? Number.NaN
      : sorted.length % 2 === 1
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
  return {
    median,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    samples,
  }
}

/** Rotate the candidate order each round, so no candidate always runs first or last. */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const k = round % Math.max(items.length, 1)
  const rotated = [...items.slice(k), ...items.slice(0, k)]
  return round % 2 === 1 ? rotated.reverse() : rotated
}

/** `12.3k`, `456`, `1.23M`: throughput figures for tables. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return 'n/a'
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 1 : 2)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 1 : 2)}k`
  return n >= 100 ? n.toFixed(0) : n.toFixed(1)
}

/** A duration given in nanoseconds, in the unit that reads best. */
export function duration(ns: number): string {
  if (!Number.isFinite(ns)) return 'n/a'
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`
  return `${ns.toFixed(0)} ns`
}

export function bytesLabel(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n >= 10 * 1024 * 1024 ? 0 : 2)} MB`
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${n} B`
}

export function ratio(value: number, reference: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return 'n/a'
  return `${(value / reference).toFixed(2)}x`
}

/** A Markdown table; the first row is the header. */
export function table(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const [head, ...body] = rows
  if (head === undefined) return ''
  const line = (cells: ReadonlyArray<string>) => `| ${cells.join(' | ')} |`
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n')
}
