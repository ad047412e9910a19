import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** The package root: tests run the audit from here, as a user would. */
export const ROOT = join(import.meta.dirname, '..')
export const FIXTURES = join(ROOT, 'test', 'fixtures')

/** A finding a fixture announces with `// expect: <rule-id> <severity>` on its line. */
export interface ExpectedFinding {
  line: number
  ruleId: string
  severity: string
}

/** Reads the `// expect:` markers of a fixture file. */
export function expectedFindings(file: string): ExpectedFinding[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((text, index) => {
      const marker = /\/\/ expect: ([a-z0-9-]+) (critical|high|medium|low)/.exec(text)
      return marker?.[1] && marker[2]
        ? [{ line: index + 1, ruleId: marker[1], severity: marker[2] }]
        : []
    })
}

/** Fixture files of one rule whose name starts with `kind` (positive or negative). */
export function fixtureFiles(ruleId: string, kind: 'positive' | 'negative'): string[] {
  const dir = join(FIXTURES, 'rules', ruleId)
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.split('/').pop()?.startsWith(kind))
    .map((name) => relative(ROOT, join(dir, name)))
    .sort()
}
