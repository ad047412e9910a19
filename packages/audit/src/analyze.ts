import { readFileSync } from 'node:fs'
import type ts from 'typescript'
import { createFileContext, type FileContext, type ProjectFacts } from './context.js'
import { parseSource } from './parse.js'
import { jsYamlVersionLookup } from './project.js'
import {
  findSuppression,
  type InvalidSuppression,
  readSuppressions,
  type Suppression,
} from './suppressions.js'
import type { Finding, Rule, SuppressedFinding } from './types.js'
import { mountsGlobalValidator } from './validators.js'

/** A file to analyse: where to read it, and how to name it in findings. */
export interface AuditedFile {
  path: string
  display: string
}

/** Everything the analysis found across the files. */
export interface Analysis {
  findings: Finding[]
  suppressed: SuppressedFinding[]
  invalidSuppressions: InvalidSuppression[]
  unreadable: { file: string; error: string }[]
}

interface ParsedFile {
  file: AuditedFile
  sourceFile: ts.SourceFile
  suppressions: Suppression[]
}

/**
 * Parses and checks one file at a time (so only one syntax tree is alive), then drops the
 * findings of rules that project-wide facts, known only at the end, rule out.
 */
export function analyze(files: readonly AuditedFile[], rules: readonly Rule[]): Analysis {
  const analysis: Analysis = {
    findings: [],
    suppressed: [],
    invalidSuppressions: [],
    unreadable: [],
  }
  const project: ProjectFacts = { jsYamlMajor: jsYamlVersionLookup(), hasGlobalValidator: false }
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file.path, 'utf8')
    } catch (error) {
      analysis.unreadable.push({ file: file.display, error: String(error) })
      continue
    }
    const sourceFile = parseSource(file.path, text)
    const { suppressions, invalid } = readSuppressions(file.display, sourceFile)
    analysis.invalidSuppressions.push(...invalid)
    const context = createFileContext(file.path, sourceFile, project)
    if (mountsGlobalValidator(sourceFile, context.bindings)) project.hasGlobalValidator = true
    checkFile({ file, sourceFile, suppressions }, context, rules, analysis)
  }
  const ruledOut = new Set(rules.filter((r) => r.holds?.(project) === false).map((r) => r.id))
  if (ruledOut.size > 0) {
    analysis.findings = analysis.findings.filter((f) => !ruledOut.has(f.ruleId))
    analysis.suppressed = analysis.suppressed.filter((f) => !ruledOut.has(f.ruleId))
  }
  return analysis
}

function checkFile(
  parsed: ParsedFile,
  context: FileContext,
  rules: readonly Rule[],
  analysis: Analysis,
): void {
  const { sourceFile, suppressions, file } = parsed
  const seen = new Set<string>()
  const lines = suppressions.length > 0 ? sourceFile.text.split('\n') : []
  const lineText = (line: number): string => lines[line - 1] ?? ''
  const visit = (node: ts.Node): void => {
    for (const rule of rules) {
      const report = rule.check(node, context)
      if (!report) continue
      const start = sourceFile.getLineAndCharacterOfPosition(report.node.getStart(sourceFile))
      const finding: Finding = {
        file: file.display,
        line: start.line + 1,
        column: start.character + 1,
        ruleId: rule.id,
        severity: report.severity ?? rule.severity,
        message: report.message,
        fix: report.fix ?? rule.fix,
      }
      const key = `${rule.id}:${finding.line}:${finding.column}`
      if (seen.has(key)) continue
      seen.add(key)
      const suppression = findSuppression(suppressions, finding.line, rule.id, lineText)
      if (suppression) analysis.suppressed.push({ ...finding, reason: suppression.reason })
      else analysis.findings.push(finding)
    }
    node.forEachChild(visit)
  }
  visit(sourceFile)
}
