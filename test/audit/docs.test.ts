import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { safebodyCli } from '../../src/audit/command.js'
import { RULES } from '../../src/audit/index.js'
import { ROOT } from './helpers.js'

const doc = readFileSync(join(ROOT, 'docs', 'AUDIT.md'), 'utf8')

describe('docs/AUDIT.md', () => {
  it.each(RULES.map((rule) => [rule.id, rule] as const))(
    'documents %s as the code defines it',
    (id, rule) => {
      const section = doc.split(`\n### ${id}\n`)[1]?.split('\n### ')[0] ?? ''
      expect(section).toContain(`**Severity:** ${rule.severity}`)
      expect(section).toContain(rule.description)
      expect(section).toContain(rule.bad)
      expect(section).toContain(rule.good)
    },
  )

  it('shows the sample run as the command prints it today', () => {
    let out = ''
    const code = safebodyCli(['audit', 'test/fixtures/audit/sample-app'], {
      cwd: ROOT,
      version: '0',
      stdout: (text) => {
        out += text
      },
      stderr: () => {},
    })
    expect(code).toBe(1)
    const sample = doc.split('$ npx safebody audit test/fixtures/audit/sample-app\n')[1] ?? ''
    // Everything but the timing, which differs from run to run.
    const withoutTiming = (text: string) => text.replace(/, \d+ ms\n/, ', N ms\n')
    const printed = withoutTiming(out)
    expect(withoutTiming(sample).startsWith(printed)).toBe(true)
  })
})
