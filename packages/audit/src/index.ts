import { performance } from 'node:perf_hooks'
import { type Analysis, analyze } from './analyze.js'
import { RULES } from './rules/index.js'
import { discoverFiles } from './scan.js'
import { atOrAbove, type Finding, type Rule, type Severity } from './types.js'

export { DEFAULT_MAX_FILE_SIZE } from './analyze.js'
export { RULES } from './rules/index.js'
export type { InvalidSuppression } from './suppressions.js'
export type { Finding, Rule, Severity, SuppressedFinding } from './types.js'
export { SEVERITIES } from './types.js'

/** What to audit. Every field has a default, so `runAudit()` audits the current directory. */
export interface AuditOptions {
  /** Files and directories, relative to `cwd`; default `['.']`. */
  paths?: readonly string[]
  /** Default `process.cwd()`. */
  cwd?: string
  /** Extra .gitignore-style patterns to skip. */
  exclude?: readonly string[]
  /** Honour .gitignore files; default true. */
  gitignore?: boolean
  /** Only these rule ids; default all. */
  rules?: readonly string[]
  /** Read vendor folders, minified bundles and generated files too; default false. */
  includeVendor?: boolean
  /** Findings in test files: `low` (default) lowers them to low, `skip` leaves test files out,
   * `full` reports them like application code. */
  testFiles?: 'low' | 'skip' | 'full'
  /** Files larger than this many bytes are skipped with reason `too large`; default 10 MiB. */
  maxFileSize?: number
}

/** The outcome of one audit run. */
export interface AuditResult extends Analysis {
  files: number
  durationMs: number
  rules: readonly Rule[]
}

/**
 * Audits JavaScript and TypeScript files for unsafe deserialization.
 * @example const { findings } = runAudit({ paths: ['src'] })
 */
export function runAudit(options: AuditOptions = {}): AuditResult {
  const started = performance.now()
  const rules = selectRules(options.rules)
  const { files, skipped, unreadable } = discoverFiles({
    paths: options.paths?.length ? options.paths : ['.'],
    cwd: options.cwd ?? process.cwd(),
    exclude: options.exclude,
    gitignore: options.gitignore,
    includeVendor: options.includeVendor,
  })
  const analysis = analyze(files, rules, {
    testFiles: options.testFiles,
    includeVendor: options.includeVendor,
    maxFileSize: options.maxFileSize,
  })
  analysis.findings.sort(byPlace)
  analysis.suppressed.sort(byPlace)
  // Files read: those found, less test files left out, files skipped for their shape and files
  // that could not be read or analysed.
  const tests = options.testFiles === 'skip' ? files.filter((f) => f.role === 'test').length : 0
  const read = files.length - tests - analysis.skipped.length - analysis.unreadable.length
  analysis.skipped = [...skipped, ...analysis.skipped]
  analysis.unreadable = [...unreadable, ...analysis.unreadable]
  return { ...analysis, files: read, durationMs: performance.now() - started, rules }
}

/** True when a finding at or above `threshold` exists: the run should exit 1. */
export function failsAt(result: AuditResult, threshold: Severity | 'none'): boolean {
  if (threshold === 'none') return false
  return result.findings.some((f) => atOrAbove(f.severity, threshold))
}

function selectRules(ids: readonly string[] | undefined): readonly Rule[] {
  if (!ids || ids.length === 0) return RULES
  const unknown = ids.filter((id) => !RULES.some((rule) => rule.id === id))
  if (unknown.length > 0) throw new Error(`unknown rule: ${unknown.join(', ')}`)
  return RULES.filter((rule) => ids.includes(rule.id))
}

function byPlace(a: Finding, b: Finding): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column
}
