import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runAudit } from '../src/index.js'
import { parseSource } from '../src/parse.js'
import { readSuppressions } from '../src/suppressions.js'

const dir = mkdtempSync(join(tmpdir(), 'safebody-suppress-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const SOURCE = `export function run(code, req) {
  eval(code) // safebody-audit-ignore code-eval: the admin console evaluates operator input
  // safebody-audit-ignore code-eval, vm-code -- templates are compiled at build time
  eval(code + ';')
  eval(code) // safebody-audit-ignore vm-code: names another rule, so it does not apply
  eval(code) // safebody-audit-ignore code-eval
  /* safebody-audit-ignore timer-string: legacy widget, removed in 2.0 */ setTimeout('x()', 1)
}
`

describe('suppression comments', () => {
  it('silence a finding on their line or the line below, and keep the reason', () => {
    writeFileSync(join(dir, 'app.js'), SOURCE)
    const result = runAudit({ paths: ['app.js'], cwd: dir })
    expect(result.findings.map((f) => [f.line, f.ruleId])).toEqual([
      [5, 'code-eval'],
      [6, 'code-eval'],
    ])
    expect(result.suppressed.map((s) => [s.line, s.ruleId, s.reason])).toEqual([
      [2, 'code-eval', 'the admin console evaluates operator input'],
      [4, 'code-eval', 'templates are compiled at build time'],
      [7, 'timer-string', 'legacy widget, removed in 2.0'],
    ])
    expect(result.invalidSuppressions.map((s) => s.line)).toEqual([6])
  })

  it('need a rule id and a reason', () => {
    const text = [
      '// safebody-audit-ignore',
      '// safebody-audit-ignore: why',
      '// safebody-audit-ignore a-b: ok',
      "const s = '// safebody-audit-ignore a-b: inside a string, not a comment'",
    ].join('\n')
    const { suppressions, invalid } = readSuppressions('x.js', parseSource('x.js', text))
    expect(invalid.map((s) => s.line)).toEqual([1, 2])
    expect(suppressions).toEqual([{ line: 3, nextLine: 4, ruleIds: ['a-b'], reason: 'ok' }])
  })

  it('cover the line below only from a comment alone on its line(s)', () => {
    const text = [
      'export function run(code) {',
      '  /* safebody-audit-ignore code-eval: reviewed */ eval(code)',
      '  eval(code + 1)',
      '  eval(code + 2) /* safebody-audit-ignore code-eval: trailing */',
      '  eval(code + 3)',
      '  /* safebody-audit-ignore code-eval: a block comment ending below',
      '   */',
      '  eval(code + 4)',
      '}',
      '',
    ].join('\n')
    writeFileSync(join(dir, 'alone.js'), text)
    const result = runAudit({ paths: ['alone.js'], cwd: dir })
    expect(result.findings.map((f) => f.line)).toEqual([3, 5])
    expect(result.suppressed.map((s) => s.line)).toEqual([2, 4, 8])
  })

  it('take a reason that goes on over the comment lines below, and cover the next code line', () => {
    const text = [
      'export function run(formula) {',
      '  // safebody-audit-ignore code-eval: formulas come from the',
      '  // admin-only report builder',
      '  eval(formula)',
      '  /* safebody-audit-ignore code-eval: formulas come from the',
      '   * admin-only report builder,',
      '     reviewed in #12 */',
      '  eval(formula + 1)',
      '  // safebody-audit-ignore code-eval:',
      '  //   the reason may start on the next line',
      '  eval(formula + 2)',
      '  // safebody-audit-ignore code-eval: reviewed',
      '  // eslint-disable-next-line no-eval',
      '  eval(formula + 3)',
      '  // safebody-audit-ignore code-eval: stacked',
      '  // safebody-audit-ignore timer-string: stacked too',
      "  setTimeout('tick()', eval(formula + 4))",
      '}',
      '',
    ].join('\n')
    writeFileSync(join(dir, 'multiline.js'), text)
    const result = runAudit({ paths: ['multiline.js'], cwd: dir })
    expect(result.findings).toEqual([])
    expect(result.invalidSuppressions).toEqual([])
    expect(result.suppressed.map((s) => [s.line, s.ruleId, s.reason])).toEqual([
      [4, 'code-eval', 'formulas come from the admin-only report builder'],
      [8, 'code-eval', 'formulas come from the admin-only report builder, reviewed in #12'],
      [11, 'code-eval', 'the reason may start on the next line'],
      [14, 'code-eval', 'reviewed'],
      [17, 'timer-string', 'stacked too'],
      [17, 'code-eval', 'stacked'],
    ])
  })

  it('end the reason and the reach of a comment at a blank line or code', () => {
    const text = [
      'export function run(code) {',
      '  // safebody-audit-ignore code-eval: reviewed',
      '',
      '  eval(code)',
      '  eval(code + 1) // safebody-audit-ignore code-eval: trailing, covers its own line',
      '  // a note about the next line',
      '  eval(code + 2)',
      '  // safebody-audit-ignore code-eval',
      '  // no rule separator, so no reason: ignored',
      '  eval(code + 3)',
      '  const a = 1 // safebody-audit-ignore code-eval: not alone, so not the line below',
      '  // still a comment',
      '  eval(code + 4)',
      '}',
      '',
    ].join('\n')
    writeFileSync(join(dir, 'ends.js'), text)
    const result = runAudit({ paths: ['ends.js'], cwd: dir })
    expect(result.findings.map((f) => f.line)).toEqual([4, 7, 10, 13])
    expect(result.suppressed.map((s) => [s.line, s.reason])).toEqual([
      [5, 'trailing, covers its own line'],
    ])
    expect(result.invalidSuppressions.map((s) => s.line)).toEqual([8])
  })

  it.each([
    ['U+2028', '\u2028'],
    ['U+2029', '\u2029'],
  ])('count lines as TypeScript does: a literal %s in a string ends a line', (_, separator) => {
    // TypeScript's positions (and so the findings' lines) count it as a line break.
    const text = [
      'const express = require("express"); const app = express()',
      `const sep = "a${separator}b"`,
      'app.get("/a", (req, res) => {',
      '  // safebody-audit-ignore code-eval: reviewed',
      '  eval(req.query.a)',
      '  eval(req.query.b)',
      '})',
      '',
    ].join('\n')
    writeFileSync(join(dir, 'separator.js'), text)
    const result = runAudit({ paths: ['separator.js'], cwd: dir })
    expect(result.suppressed.map((s) => [s.line, s.reason])).toEqual([[6, 'reviewed']])
    expect(result.findings.map((f) => f.line)).toEqual([7])
  })

  it('count a bare CR as a line end', () => {
    const lines = ['eval(w)', '// safebody-audit-ignore code-eval: reviewed', 'eval(x)', 'eval(y)']
    writeFileSync(join(dir, 'cr.js'), `${lines.join('\r')}\r`)
    const result = runAudit({ paths: ['cr.js'], cwd: dir })
    expect(result.suppressed.map((s) => s.line)).toEqual([3])
    expect(result.findings.map((f) => f.line)).toEqual([1, 4])
  })

  it('leave a byte order mark out of the columns of line 1', () => {
    const text = '\uFEFFeval(process.env.X) // safebody-audit-ignore code-eval: reviewed\neval(y)\n'
    writeFileSync(join(dir, 'bom.js'), text)
    const result = runAudit({ paths: ['bom.js'], cwd: dir })
    expect(result.suppressed.map((s) => [s.line, s.column])).toEqual([[1, 1]])
    expect(result.findings.map((f) => [f.line, f.column])).toEqual([[2, 1]])
  })
})
