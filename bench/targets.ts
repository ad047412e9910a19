/** The targets, checked against one run's figures. */
import type { BombResult } from './bombs.js'
import type { HttpRow } from './http/run.js'
import { spread } from './lib/stats.js'
import type { MicroRow } from './micro.js'

export interface Target {
  readonly what: string
  readonly goal: string
  readonly measured: string
  readonly met: boolean | null
}

const x = (n: number) => `${n.toFixed(2)}x`

function candidate(row: MicroRow, prefix: string) {
  return row.candidates.find((c) => c.name.startsWith(prefix))
}

export function microTargets(rows: readonly MicroRow[]): Target[] {
  const out: Target[] = []
  for (const row of rows) {
    const ours = candidate(row, 'safebody')
    const limit = row.candidates[0]
    if (!ours || !limit) continue
    const goal = row.format === 'json' ? 0.95 : 0.9
    out.push({
      what: `${row.format} micro, ${row.payload}: safebody vs ${limit.name}`,
      goal: `≥ ${x(goal)}`,
      measured: x(ours.ratio.median),
      met: ours.ratio.median >= goal,
    })
    const sjp = candidate(row, 'secure-json-parse')
    if (sjp) {
      out.push({
        what: `${row.format} micro, ${row.payload}: safebody vs secure-json-parse + ajv`,
        goal: '> 1.00x',
        measured: x(ours.ratio.median / sjp.ratio.median),
        met: ours.ratio.median > sjp.ratio.median,
      })
    }
  }
  return out
}

export function middlewareTargets(rows: readonly MicroRow[]): Target[] {
  return rows.flatMap((row) => {
    const ours = candidate(row, 'safeBody')
    if (!ours) return []
    const out: Target[] = [
      {
        what: `JSON middleware, ${row.payload}: safeBody vs collect + JSON.parse + ajv`,
        goal: '≥ 0.95x',
        measured: x(ours.ratio.median),
        met: ours.ratio.median >= 0.95,
      },
    ]
    // Issue 16: the guard in front of zod costs at most 5% over express.json() in front of it.
    const zod = candidate(row, 'safeBody + zod')
    const plainZod = candidate(row, 'express.json() + zod')
    if (zod && plainZod) {
      // Within each round, the pair's own ratio (time, so theirs over ours): the reference's
      // noise stays out of it.
      const ratio = roundMedian(plainZod.time.samples, zod.time.samples)
      out.push({
        what: `JSON middleware, ${row.payload}: safeBody + zod vs express.json() + zod`,
        goal: '≥ 0.95x',
        measured: x(ratio),
        met: ratio >= 0.95,
      })
    }
    return out
  })
}

/** The median over rounds of `a / b`, each round's figures divided (they ran side by side). */
function roundMedian(a: readonly number[], b: readonly number[]): number {
  return spread(a.map((v, i) => v / (b[i] as number))).median
}

/** Per-round ratio of two HTTP candidates' req/s. */
function roundRatio(row: HttpRow, kind: string, reference: string): number | null {
  const a = row.cells.find((c) => c.kind === kind)?.rps
  const b = row.cells.find((c) => c.kind === reference)?.rps
  if (!a || !b) return null
  return roundMedian(a.samples, b.samples)
}

export function httpTargets(rows: readonly HttpRow[]): Target[] {
  const goals: Record<string, number> = { small: 1.15, medium: 1.05 }
  const out: Target[] = []
  for (const row of rows) {
    // Issue 15: each adapter at least 0.9x what its server does without safebody.
    for (const [kind, reference, what] of [
      ['safeBodyNode', 'bare', 'safebody/node vs node:http + JSON.parse + ajv'],
      ['safeBodyFastify', 'fastify', 'safebody/fastify vs fastify with its route schema'],
    ] as const) {
      const ratio = roundRatio(row, kind, reference)
      if (ratio === null) continue
      out.push({
        what: `HTTP, ${row.payload}: ${what} (req/s)`,
        goal: '≥ 0.90x',
        measured: x(ratio),
        met: ratio >= 0.9,
      })
    }
    const goal = goals[row.payload]
    if (goal === undefined) continue
    const vsStatusQuo = roundRatio(row, 'safeBody', 'expressJson')
    const vsDrain = roundRatio(row, 'safeBody', 'drain')
    const vsZod = roundRatio(row, 'safeBodyZod', 'expressJsonZod')
    if (vsStatusQuo !== null) {
      out.push({
        what: `HTTP, ${row.payload}: safeBody vs express.json() + ajv (req/s)`,
        goal: `≥ ${x(goal)}`,
        measured: x(vsStatusQuo),
        met: vsStatusQuo >= goal,
      })
    }
    if (vsDrain !== null) {
      out.push({
        what: `HTTP, ${row.payload}: safeBody vs drain ceiling (req/s)`,
        goal: '≥ 0.90x',
        measured: x(vsDrain),
        met: vsDrain >= 0.9,
      })
    }
    if (vsZod !== null) {
      out.push({
        what: `HTTP, ${row.payload}: safeBody + zod vs express.json() + zod (req/s)`,
        goal: '≥ 0.95x',
        measured: x(vsZod),
        met: vsZod >= 0.95,
      })
    }
  }
  return out
}

export function bombTarget(r: BombResult): Target {
  const growth = r.peak - r.baseline
  return {
    what: `bombs: peak RSS growth, ${r.clients} clients`,
    goal: '< 100 MB',
    measured: `${(growth / (1024 * 1024)).toFixed(1)} MB`,
    met: growth < 100 * 1024 * 1024,
  }
}
