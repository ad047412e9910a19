import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RULES, runAudit } from '../src/index.js'
import { expectedFindings, fixtureFiles, ROOT } from './helpers.js'

describe.each(RULES.map((rule) => [rule.id, rule] as const))('rule %s', (id, rule) => {
  it('is documented: title, description, fix, bad and good example', () => {
    for (const field of [rule.title, rule.description, rule.fix, rule.bad, rule.good]) {
      expect(field.trim().length).toBeGreaterThan(10)
    }
    expect(rule.bad).not.toEqual(rule.good)
  })

  const positives = fixtureFiles(id, 'positive')
  const negatives = fixtureFiles(id, 'negative')

  it('has true-positive and look-alike negative fixtures', () => {
    expect(positives.length).toBeGreaterThan(0)
    expect(negatives.length).toBeGreaterThan(0)
  })

  // Each rule runs alone: a fixture for one rule may rightly trigger another (a handler that
  // merges req.body also reads an unvalidated body).
  it.each(positives)('finds every marked line of %s and nothing else', (file) => {
    const expected = expectedFindings(join(ROOT, file)).filter((f) => f.ruleId === id)
    expect(expected.length).toBeGreaterThan(0)
    const { findings } = runAudit({ paths: [file], cwd: ROOT, rules: [id] })
    const found = findings.map((f) => ({ line: f.line, ruleId: f.ruleId, severity: f.severity }))
    expect(found).toEqual(expected)
  })

  it.each(negatives)('finds nothing in the look-alikes of %s', (file) => {
    const { findings } = runAudit({ paths: [file], cwd: ROOT, rules: [id] })
    expect(findings).toEqual([])
  })
})

describe('project-wide facts', () => {
  it('a validator mounted with app.use() in one file covers routes in another', () => {
    const dir = 'test/fixtures/rules/unvalidated-body/global'
    const alone = runAudit({ paths: [`${dir}/routes.js`], cwd: ROOT })
    expect(alone.findings.map((f) => f.ruleId)).toEqual(['unvalidated-body'])
    const together = runAudit({ paths: [dir], cwd: ROOT })
    expect(together.findings).toEqual([])
  })
})
