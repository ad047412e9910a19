import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AuditResult } from '../index.js'
import type { Finding, Rule, Severity } from '../types.js'

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json'
const INFORMATION_URI = 'https://www.npmjs.com/package/safebody'
// SARIF has three levels; GitHub ranks security alerts by `security-severity` (0-10).
const LEVELS: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
}
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
}

/** SARIF 2.1.0 log for GitHub code scanning; suppressed findings carry `suppressions`. */
export function formatSarif(result: AuditResult, toolVersion: string): string {
  const ruleIndex = new Map(result.rules.map((rule, index) => [rule.id, index]))
  const results = [
    ...result.findings.map((f) => sarifResult(f, ruleIndex)),
    ...result.suppressed.map((f) => ({
      ...sarifResult(f, ruleIndex),
      suppressions: [{ kind: 'inSource', justification: f.reason }],
    })),
  ]
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'safebody-audit',
            version: toolVersion,
            informationUri: INFORMATION_URI,
            rules: result.rules.map(sarifRule),
          },
        },
        // Files that could not be read or analysed, and those skipped as not the
        // application's own: tool notifications, so a reader sees what the run left out.
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: [
              ...result.unreadable.map((u) =>
                notification('warning', `could not audit ${u.file}: ${u.error}`, u.file),
              ),
              ...result.skipped.map((s) =>
                notification('note', `skipped ${s.file}: ${s.reason}`, s.file),
              ),
            ],
          },
        ],
        columnKind: 'utf16CodeUnits',
        results,
      },
    ],
  }
  return `${JSON.stringify(log, null, 2)}\n`
}

function sarifRule(rule: Rule) {
  return {
    id: rule.id,
    // SARIF wants a human name distinct from the opaque id: code-eval -> CodeEval.
    name: rule.id.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase()),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.description },
    help: {
      text: `${rule.description}\nFix: ${rule.fix}`,
      markdown: `${rule.description}\n\n**Fix:** ${rule.fix}\n\nBad:\n\n\`\`\`js\n${rule.bad}\n\`\`\`\n\nGood:\n\n\`\`\`js\n${rule.good}\n\`\`\``,
    },
    defaultConfiguration: { level: LEVELS[rule.severity] },
    properties: {
      tags: ['security'],
      'security-severity': SECURITY_SEVERITY[rule.severity],
    },
  }
}

function notification(level: 'warning' | 'note', text: string, file: string) {
  return {
    level,
    message: { text },
    locations: [{ physicalLocation: { artifactLocation: { uri: artifactUri(file) } } }],
  }
}

function sarifResult(finding: Finding, ruleIndex: Map<string, number>) {
  return {
    ruleId: finding.ruleId,
    ruleIndex: ruleIndex.get(finding.ruleId) ?? -1,
    level: LEVELS[finding.severity],
    message: { text: `${finding.message}. Fix: ${finding.fix}` },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: artifactUri(finding.file) },
          region: { startLine: finding.line, startColumn: finding.column },
        },
      },
    ],
    properties: { severity: finding.severity },
  }
}

// Paths under the working directory stay relative (GitHub resolves them against the
// checkout), each segment percent-encoded so that `#` or `?` in a name is not read as a
// fragment or a query; anything else becomes a file: URI.
function artifactUri(file: string): string {
  if (isAbsolute(file)) return pathToFileURL(file).href
  return file.split('/').map(encodeURIComponent).join('/')
}
