import type { AuditResult } from '../index.js'
import { SEVERITIES } from '../types.js'

/** Human-readable report: one line per finding with its fix, then a summary. */
export function formatText(result: AuditResult): string {
  const lines: string[] = []
  for (const f of result.findings) {
    lines.push(`${f.file}:${f.line}:${f.column} ${f.ruleId} ${f.severity} ${f.message}`)
    lines.push(`  fix: ${f.fix}`)
  }
  if (result.findings.length > 0) lines.push('')
  const counts = SEVERITIES.map((s) => [s, result.findings.filter((f) => f.severity === s).length])
    .filter(([, n]) => n !== 0)
    .map(([s, n]) => `${n} ${s}`)
  const breakdown = counts.length > 0 ? ` (${counts.join(', ')})` : ''
  lines.push(
    `${plural(result.findings.length, 'finding')}${breakdown} in ${plural(result.files, 'file')}, ` +
      `${result.suppressed.length} suppressed, ${Math.round(result.durationMs)} ms`,
  )
  for (const s of result.suppressed) {
    lines.push(`  suppressed ${s.file}:${s.line}:${s.column} ${s.ruleId}: ${s.reason}`)
  }
  for (const s of result.invalidSuppressions) {
    lines.push(`  ignored suppression without rule id or reason at ${s.file}:${s.line}: ${s.text}`)
  }
  for (const u of result.unreadable) lines.push(`  could not audit ${u.file}: ${u.error}`)
  const large = result.skipped.filter((s) => s.reason === 'too large')
  const vendored = result.skipped.length - large.length
  if (vendored > 0) {
    lines.push(
      `  skipped ${plural(vendored, 'vendored, minified or generated path')} ` +
        '(--include-vendor reads them)',
    )
  }
  for (const s of large) {
    lines.push(`  skipped ${s.file}: too large (--max-file-size raises the limit)`)
  }
  return `${lines.join('\n')}\n`
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
