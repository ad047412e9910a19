import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { auditCli } from '../src/command.js'
import { RULES } from '../src/index.js'
import { ROOT } from './helpers.js'

const doc = readFileSync(join(ROOT, 'README.md'), 'utf8')

describe('README.md of safebody-audit', () => {
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
    const code = auditCli(['test/fixtures/sample-app'], {
      cwd: ROOT,
      version: '0',
      stdout: (text) => {
        out += text
      },
      stderr: () => {},
    })
    expect(code).toBe(1)
    const sample = doc.split('$ npx safebody-audit test/fixtures/sample-app\n')[1] ?? ''
    // Everything but the timing, which differs from run to run.
    const withoutTiming = (text: string) => text.replace(/, \d+ ms\n/, ', N ms\n')
    const printed = withoutTiming(out)
    expect(withoutTiming(sample).startsWith(printed)).toBe(true)
  })
})
