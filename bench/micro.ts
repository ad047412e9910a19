/**
 * Micro benchmarks: for each format and payload, the limit (the format's raw decoder plus a
 * compiled ajv validator), every alternative, and safebody's pipeline from bytes to
 * validated value, measured in one process, in alternating rounds.
 */
import { measure } from 'mitata'
import type { LimitOptions } from '../dist/esm/core/options.js'
import { type BenchFormat, benchFormats, pipelineFor } from './formats.js'
import { baselineValidator } from './lib/ajv.js'
import { bytesLabel, compact, duration, rotation, type Spread, spread, table } from './lib/stats.js'
import { jsonBody, orderSchema, type Payload } from './payloads.js'

export interface MicroSettings {
  /** Alternating rounds; every candidate is measured once per round. */
  readonly rounds: number
  /** CPU time mitata spends on one candidate in one round, in ms. */
  readonly msPerCandidate: number
  /**
   * Time with the process's CPU time instead of the wall clock: on a machine shared with
   * other work, time spent descheduled then counts against no one.
   */
  readonly cpuClock?: boolean
  /** Fewest samples per measurement (default 8); fewer keeps 10 MB bodies affordable. */
  readonly minSamples?: number
  /** Take exactly this many single-call samples, no warm-up: for the smoke test only. */
  readonly exactSamples?: number
}

// process.cpuUsage() in nanoseconds: user and system time of every thread (GC included).
const cpuNow = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) * 1000
}

export interface Candidate {
  readonly name: string
  /** One body through the candidate; a promise is awaited. */
  readonly run: (bytes: Buffer) => unknown
}

export interface CandidateResult {
  readonly name: string
  /** Nanoseconds per call: each round's median, summarised over rounds. */
  readonly time: Spread
  /** Calls per second, from the same rounds. */
  readonly ops: Spread
  /** Throughput relative to the limit, computed within each round. */
  readonly ratio: Spread
}

export interface MicroRow {
  readonly format: string
  readonly payload: string
  readonly bytes: number
  readonly candidates: readonly CandidateResult[]
}

/** The candidates for one format: the limit first, then the alternatives, then safebody. */
export function candidates(entry: BenchFormat, global: LimitOptions = {}): Candidate[] {
  const plain = baselineValidator(orderSchema)
  const own = baselineValidator(orderSchema, { ownProperties: true })
  const checked =
    (decode: (bytes: Buffer) => unknown, validate = plain) =>
    (bytes: Buffer) => {
      const value = decode(bytes)
      if (!validate(value)) throw new Error('the baseline validator refused the payload')
      return value
    }
  const pipeline = pipelineFor(entry, orderSchema, global)
  return [
    { name: entry.raw.name, run: checked(entry.raw.decode) },
    // What ajv's ownProperties costs: safebody's fallback while Object.prototype is polluted.
    { name: `${entry.raw.name} (ownProperties)`, run: checked(entry.raw.decode, own) },
    ...(entry.alternatives ?? []).map((alt) => ({ name: alt.name, run: checked(alt.decode) })),
    { name: `safebody (${entry.format})`, run: (bytes) => pipeline(entry.contentType, bytes) },
  ]
}

/** Measure every candidate on one body; `reference` (default: the first) is the 1.00x. */
export async function measureBody(
  list: readonly Candidate[],
  bytes: Buffer,
  settings: MicroSettings,
  reference = list[0]?.name as string,
): Promise<CandidateResult[]> {
  for (const c of list) await c.run(bytes) // fails loudly if a candidate refuses the payload
  const times = new Map<string, number[]>(list.map((c) => [c.name, []]))
  const ratios = new Map<string, number[]>(list.map((c) => [c.name, []]))
  for (let round = 0; round < settings.rounds; round++) {
    const roundTime = new Map<string, number>()
    for (const c of rotation(list, round)) {
      const stats = await measure(() => c.run(bytes), {
        min_cpu_time: settings.msPerCandidate * 1e6,
        min_samples: settings.minSamples ?? 8,
        ...(settings.cpuClock ? { now: cpuNow } : {}),
        ...(settings.exactSamples === undefined
          ? {}
          : {
              min_samples: settings.exactSamples,
              max_samples: settings.exactSamples,
              batch_samples: 1,
              warmup_samples: 0,
              warmup_threshold: 0,
              batch_threshold: 0,
            }),
      })
      roundTime.set(c.name, stats.p50)
      times.get(c.name)?.push(stats.p50)
    }
    const ref = roundTime.get(reference) as number
    for (const c of list) ratios.get(c.name)?.push(ref / (roundTime.get(c.name) as number))
  }
  return list.map((c) => {
    const t = times.get(c.name) as number[]
    return {
      name: c.name,
      time: spread(t),
      ops: spread(t.map((ns) => 1e9 / ns)),
      ratio: spread(ratios.get(c.name) as number[]),
    }
  })
}

export async function runMicro(
  sizes: readonly Payload[],
  settings: MicroSettings,
  options: {
    formats?: readonly BenchFormat[]
    /** safebody's limits, if the defaults would refuse the payloads. */
    global?: LimitOptions
    /** Which candidates to measure, by name (default: all). */
    include?: (name: string) => boolean
    log?: (line: string) => void
  } = {},
): Promise<MicroRow[]> {
  const { formats = benchFormats, global = {}, include = () => true, log = () => {} } = options
  const rows: MicroRow[] = []
  for (const entry of formats) {
    const list = candidates(entry, global).filter((c) => include(c.name))
    for (const payload of sizes) {
      const bytes = entry.format === 'json' ? jsonBody(payload) : entry.encode(payload.value)
      log(`micro ${entry.format} ${payload.name} (${bytesLabel(bytes.length)})`)
      const results = await measureBody(list, bytes, settings)
      rows.push({
        format: entry.format,
        payload: payload.name,
        bytes: bytes.length,
        candidates: results,
      })
    }
  }
  return rows
}

const spreadOps = (s: Spread) => `${compact(s.median)}/s (${compact(s.min)}–${compact(s.max)})`
const spreadRatio = (s: Spread) =>
  `**${s.median.toFixed(2)}x** (${s.min.toFixed(2)}–${s.max.toFixed(2)})`

/** One table per format: a row per payload and candidate. */
export function microTables(rows: readonly MicroRow[], reference = 'limit'): string {
  const byFormat = new Map<string, MicroRow[]>()
  for (const row of rows) byFormat.set(row.format, [...(byFormat.get(row.format) ?? []), row])
  const out: string[] = []
  for (const [format, list] of byFormat) {
    const cells = [['payload', 'candidate', 'time per body', 'throughput', `vs ${reference}`]]
    for (const row of list) {
      for (const [i, c] of row.candidates.entries()) {
        cells.push([
          i === 0 ? `${row.payload} (${bytesLabel(row.bytes)})` : '',
          c.name,
          `${duration(c.time.median)} (${duration(c.time.min)}–${duration(c.time.max)})`,
          spreadOps(c.ops),
          i === 0 ? `1.00x (${reference})` : spreadRatio(c.ratio),
        ])
      }
    }
    out.push(`#### ${format}\n\n${table(cells)}`)
  }
  return out.join('\n\n')
}

/** Scaling: the same path on ever larger bodies, as time per body and per megabyte. */
export function scalingTable(rows: readonly MicroRow[]): string {
  const cells = [['body', 'candidate', 'time per body', 'time per MB', 'MB/s', 'vs limit']]
  for (const row of rows) {
    for (const [i, c] of row.candidates.entries()) {
      const perMb = c.time.median * ((1024 * 1024) / row.bytes)
      cells.push([
        i === 0 ? `${row.payload} (${bytesLabel(row.bytes)})` : '',
        c.name,
        `${duration(c.time.median)} (${duration(c.time.min)}–${duration(c.time.max)})`,
        duration(perMb),
        (1e9 / perMb).toFixed(0),
        i === 0 ? '1.00x (limit)' : spreadRatio(c.ratio),
      ])
    }
  }
  return table(cells)
}
