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

/** Reads the `// expect:` markers of a fixture file (several on a line: `expect: a high, expect: b low`). */
export function expectedFindings(file: string): ExpectedFinding[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((text, index) => {
      const comment = text.indexOf('// expect: ')
      if (comment === -1) return []
      const markers = text
        .slice(comment)
        .matchAll(/expect: ([a-z0-9-]+) (critical|high|medium|low)/g)
      return [...markers].map(([, ruleId, severity]) => ({
        line: index + 1,
        ruleId: ruleId as string,
        severity: severity as string,
      }))
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

/** A finding as the fixtures' markers state it: file relative to the package root. */
export interface MarkedFinding extends ExpectedFinding {
  file: string
}

/** The `// expect:` markers of every script under a directory, files relative to ROOT. */
export function expectedInDir(dir: string): MarkedFinding[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.[cm]?[jt]sx?$/.test(name))
    .flatMap((name) => {
      const file = relative(ROOT, join(ROOT, dir, name))
      return expectedFindings(join(ROOT, file)).map((f) => ({ file, ...f }))
    })
    .sort(byPlace)
}

/** Orders findings by file, then line, then rule. */
export function byPlace(a: MarkedFinding, b: MarkedFinding): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.ruleId.localeCompare(b.ruleId)
}
