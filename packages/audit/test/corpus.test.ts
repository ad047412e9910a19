import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RULES, runAudit } from '../src/index.js'
import { expectedInDir, type MarkedFinding, ROOT } from './helpers.js'

// Small applications written for this test, each with the findings it should produce marked
// `// expect: <rule> <severity>` and look-alikes that must not be reported. A finding counts as
// found when file, line, rule and severity all match.
const CORPUS = 'test/fixtures/corpus'
const apps = readdirSync(join(ROOT, CORPUS)).sort()

interface Tally {
  expected: number
  found: number
  truePositives: number
}

const key = (f: MarkedFinding) => `${f.file}:${f.line}:${f.ruleId}:${f.severity}`

function score(): { byRule: Map<string, Tally>; missed: string[]; extra: string[] } {
  const byRule = new Map<string, Tally>(
    RULES.map((r) => [r.id, { expected: 0, found: 0, truePositives: 0 }]),
  )
  const missed: string[] = []
  const extra: string[] = []
  for (const app of apps) {
    const dir = `${CORPUS}/${app}`
    const expected = expectedInDir(dir)
    const found = runAudit({ paths: [dir], cwd: ROOT }).findings.map((f) => ({
      file: f.file,
      line: f.line,
      ruleId: f.ruleId,
      severity: f.severity,
    }))
    const foundKeys = new Set(found.map(key))
    const expectedKeys = new Set(expected.map(key))
    for (const f of expected) {
      const tally = byRule.get(f.ruleId) as Tally
      tally.expected++
      if (foundKeys.has(key(f))) tally.truePositives++
      else missed.push(key(f))
    }
    for (const f of found) {
      ;(byRule.get(f.ruleId) as Tally).found++
      if (!expectedKeys.has(key(f))) extra.push(key(f))
    }
  }
  return { byRule, missed, extra }
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b)
const percent = (x: number) => `${(x * 100).toFixed(1)}%`

describe('corpus of small applications', () => {
  const { byRule, missed, extra } = score()
  const total = [...byRule.values()].reduce(
    (sum, t) => ({
      expected: sum.expected + t.expected,
      found: sum.found + t.found,
      truePositives: sum.truePositives + t.truePositives,
    }),
    { expected: 0, found: 0, truePositives: 0 },
  )
  const recall = ratio(total.truePositives, total.expected)
  const precision = ratio(total.truePositives, total.found)

  it('prints recall and precision by rule', () => {
    const rows = [...byRule].map(
      ([id, t]) =>
        `${id.padEnd(30)} expected ${String(t.expected).padStart(3)}  found ${String(t.found).padStart(3)}  ` +
        `recall ${percent(ratio(t.truePositives, t.expected)).padStart(6)}  ` +
        `precision ${percent(ratio(t.truePositives, t.found)).padStart(6)}`,
    )
    console.log(
      [
        `corpus: ${apps.length} applications, ${total.expected} expected findings, ${total.found} reported`,
        ...rows,
        `recall ${percent(recall)} (${total.truePositives}/${total.expected}), ` +
          `precision ${percent(precision)} (${total.truePositives}/${total.found})`,
        ...missed.map((m) => `  missed ${m}`),
        ...extra.map((e) => `  not expected ${e}`),
      ].join('\n'),
    )
    expect(apps.length).toBeGreaterThanOrEqual(15)
  })

  it('covers every rule with at least one expected finding', () => {
    const uncovered = [...byRule].filter(([, t]) => t.expected === 0).map(([id]) => id)
    expect(uncovered).toEqual([])
  })

  it('reaches recall and precision of at least 90%', () => {
    expect(recall).toBeGreaterThanOrEqual(0.9)
    expect(precision).toBeGreaterThanOrEqual(0.9)
  })
})
