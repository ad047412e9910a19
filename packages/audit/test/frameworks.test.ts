import { describe, expect, it } from 'vitest'
import { runAudit } from '../src/index.js'
import { byPlace, expectedInDir, ROOT } from './helpers.js'

// Request data in other frameworks' handlers, with every rule on: each positive file marks
// the findings it should produce, each negative file holds look-alikes that must stay clean.
function audit(path: string) {
  const { findings } = runAudit({ paths: [path], cwd: ROOT })
  return findings
    .map((f) => ({ file: f.file, line: f.line, ruleId: f.ruleId, severity: f.severity }))
    .sort(byPlace)
}

describe.each([
  ['koa', 'js'],
  ['nestjs', 'ts'],
])('%s handlers', (framework, ext) => {
  const dir = `test/fixtures/frameworks/${framework}`

  it('find request data in the framework’s own places', () => {
    const positive = `${dir}/positive.${ext}`
    const expected = expectedInDir(dir).filter((f) => f.file === positive)
    expect(expected.length).toBeGreaterThan(0)
    expect(audit(positive)).toEqual(expected)
  })

  it('leave the look-alikes clean', () => {
    expect(audit(`${dir}/negative.${ext}`)).toEqual([])
  })
})
