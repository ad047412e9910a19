import type ts from 'typescript'
import type { FileContext, ProjectFacts } from './context.js'

/** How bad a finding is, from worst to mildest. */
export type Severity = 'critical' | 'high' | 'medium' | 'low'

/** Severities from worst to mildest; the index is the rank used by `--fail-on`. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low']

/** True when `severity` is at least as bad as `threshold`. */
export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(threshold)
}

/** One problem found in one place. Lines and columns are 1-based. */
export interface Finding {
  file: string
  line: number
  column: number
  ruleId: string
  severity: Severity
  message: string
  fix: string
}

/** A finding that a `safebody-audit-ignore` comment silenced, with the reason given. */
export interface SuppressedFinding extends Finding {
  reason: string
}

/** What a rule says about one node; the engine adds the place and the defaults. */
export interface RuleReport {
  node: ts.Node
  message: string
  severity?: Severity
  fix?: string
}

/** A catalogue entry: what the rule looks for, why, and the visitor that looks. */
export interface Rule {
  id: string
  severity: Severity
  title: string
  description: string
  fix: string
  bad: string
  good: string
  check(node: ts.Node, file: FileContext): RuleReport | undefined
  /** Asked once all files are read: false drops every finding of this rule. */
  holds?(project: ProjectFacts): boolean
}
