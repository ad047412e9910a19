import type { AuditResult } from '../index.js'
import { SEVERITIES } from '../types.js'

/** Machine-readable report: findings, suppressions and counts, stable field names. */
export function formatJson(result: AuditResult): string {
  const report = {
    tool: 'safebody-audit',
    files: result.files,
    durationMs: Math.round(result.durationMs),
    findings: result.findings,
    suppressed: result.suppressed,
    invalidSuppressions: result.invalidSuppressions,
    unreadable: result.unreadable,
    skipped: result.skipped,
    summary: {
      findings: result.findings.length,
      suppressed: result.suppressed.length,
      bySeverity: Object.fromEntries(
        SEVERITIES.map((s) => [s, result.findings.filter((f) => f.severity === s).length]),
      ),
    },
  }
  return `${JSON.stringify(report, null, 2)}\n`
}
