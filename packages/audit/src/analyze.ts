import { readFileSync, statSync } from 'node:fs'
import ts from 'typescript'
import {
  createFileContext,
  type FileContext,
  isStaticValue,
  type Probe,
  type ProjectFacts,
} from './context.js'
import { type FileFlow, ProjectFlow } from './flow.js'
import { bodyUse, returnedHandler } from './handlers.js'
import { ModuleResolver } from './modules.js'
import { parseSource } from './parse.js'
import { jsYamlVersionLookup, packageVersionLookup } from './project.js'
import type { AuditedFile, SkippedPath } from './scan.js'
import {
  findSuppression,
  type InvalidSuppression,
  readSuppressions,
  type Suppression,
} from './suppressions.js'
import type { Finding, Rule, RuleReport, SuppressedFinding } from './types.js'
import { mountsGlobalValidator } from './validators.js'
import { machineWritten } from './vendor.js'

/** Everything the analysis found across the files. */
export interface Analysis {
  findings: Finding[]
  suppressed: SuppressedFinding[]
  invalidSuppressions: InvalidSuppression[]
  unreadable: { file: string; error: string }[]
  skipped: SkippedPath[]
}

/** How to treat code that is not the application's own. */
export interface AnalyzeOptions {
  /** Findings in test files: lowered to low (default), left out, or reported as they are. */
  testFiles?: 'low' | 'skip' | 'full'
  /** Read minified and generated files too (vendor folders are left out by discovery). */
  includeVendor?: boolean
  /** Files larger than this many bytes are skipped, not read; default DEFAULT_MAX_FILE_SIZE. */
  maxFileSize?: number
}

/**
 * 10 MiB: TypeScript's own 9 MB typescript.js takes about 360 MB of memory to audit, a 10 MB
 * minified bundle about 1.1 GB, and a 50 MB one exhausts Node's default heap.
 */
export const DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024

/** What a finding in a test file says, after its message. */
export const TEST_FILE_NOTE = ' (in a test file)'

interface ParsedFile {
  file: AuditedFile
  sourceFile: ts.SourceFile
  suppressions: Suppression[]
}

/**
 * Parses and checks one file at a time (so only one syntax tree is alive), writing down what
 * other files may need (flow.ts); then joins those facts across files and drops the findings
 * of rules that project-wide facts, known only at the end, rule out.
 */
export function analyze(
  files: readonly AuditedFile[],
  rules: readonly Rule[],
  options: AnalyzeOptions = {},
): Analysis {
  const analysis: Analysis = {
    findings: [],
    suppressed: [],
    invalidSuppressions: [],
    unreadable: [],
    skipped: [],
  }
  const testFiles = options.testFiles ?? 'low'
  const audited = files.filter((f) => testFiles !== 'skip' || f.role !== 'test')
  const project: ProjectFacts = {
    jsYamlMajor: jsYamlVersionLookup(),
    packageVersion: packageVersionLookup(),
    hasGlobalValidator: false,
    modules: new ModuleResolver(new Set(audited.map((f) => f.path))),
  }
  const flow = new ProjectFlow()
  const maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE
  for (const file of audited) {
    let text: string
    try {
      // Not read at all: one file of tens of megabytes would exhaust the heap of the whole run.
      if (statSync(file.path).size > maxFileSize) {
        analysis.skipped.push({ file: file.display, reason: 'too large' })
        continue
      }
      // Without its byte order mark: TypeScript keeps it in the text, so every position on
      // line 1 (and so the column reported) would be one further than an editor shows.
      text = withoutBom(readFileSync(file.path, 'utf8'))
    } catch (error) {
      analysis.unreadable.push({ file: file.display, error: String(error) })
      continue
    }
    const shape = file.explicit || options.includeVendor ? undefined : machineWritten(text)
    if (shape) {
      analysis.skipped.push({ file: file.display, reason: shape })
      continue
    }
    // The audit's walks over the syntax tree recurse: a file nested deeper than the stack
    // allows (a 1,500-link method chain, thousands of `+`-joined lines) overflows it. That
    // file is listed as unreadable, with nothing of it kept; the other files are audited.
    const marks = flow.mark()
    const own: FileAnalysis = { findings: [], suppressed: [], invalidSuppressions: [] }
    try {
      if (auditFile(file, text, project, flow, rules, own)) project.hasGlobalValidator = true
    } catch (error) {
      if (!isStackOverflow(error)) throw error
      flow.rollback(file.path, marks)
      analysis.unreadable.push({ file: file.display, error: TOO_DEEP })
      continue
    }
    // One at a time: spreading a list of a hundred thousand findings into push()'s arguments
    // overflows the stack as well.
    for (const f of own.findings) analysis.findings.push(f)
    for (const f of own.suppressed) analysis.suppressed.push(f)
    for (const s of own.invalidSuppressions) analysis.invalidSuppressions.push(s)
  }
  const unvalidated = rules.find((r) => r.id === 'unvalidated-body')
  flow.finish(analysis.findings, analysis.suppressed, unvalidated)
  const ruledOut = new Set(rules.filter((r) => r.holds?.(project) === false).map((r) => r.id))
  const tests = new Set(audited.filter((f) => f.role === 'test').map((f) => f.display))
  const keep = (f: Finding) => !ruledOut.has(f.ruleId)
  analysis.findings = analysis.findings.filter(keep)
  analysis.suppressed = analysis.suppressed.filter(keep)
  if (testFiles === 'low' && tests.size > 0) {
    for (const list of [analysis.findings, analysis.suppressed]) {
      for (const f of list) {
        if (!tests.has(f.file)) continue
        f.severity = 'low'
        f.message += TEST_FILE_NOTE
      }
    }
  }
  return analysis
}

/** What `unreadable` says of a file too deeply nested for the audit's recursive walks. */
export const TOO_DEEP =
  'syntax tree too deep to analyse (RangeError: Maximum call stack size exceeded)'

type FileAnalysis = Pick<Analysis, 'findings' | 'suppressed' | 'invalidSuppressions'>

// Parses and checks one file into `own`; true when it mounts a validator for every route.
function auditFile(
  file: AuditedFile,
  text: string,
  project: ProjectFacts,
  flow: ProjectFlow,
  rules: readonly Rule[],
  own: FileAnalysis,
): boolean {
  const sourceFile = parseSource(file.path, text)
  const { suppressions, invalid } = readSuppressions(file.display, sourceFile)
  own.invalidSuppressions = invalid
  const probe: Probe = { asked: undefined }
  const context = createFileContext(file.path, sourceFile, project, probe)
  context.flow = flow.file(file.path, file.display, context.functions.exports)
  const mountsValidator = mountsGlobalValidator(sourceFile, context.bindings)
  const parsed = { file, sourceFile, suppressions }
  recordHandlers(parsed, context, context.flow)
  checkFile(parsed, context, context.flow, probe, rules, own)
  return mountsValidator
}

function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message)
}

// Handlers other files may mount: how they use req.body, by local path (or their factory's).
function recordHandlers(parsed: ParsedFile, context: FileContext, flow: FileFlow): void {
  for (const fn of context.taint.handlers()) {
    let path = context.functions.pathOf.get(fn)
    let factory = false
    if (path === undefined) {
      const outer = context.enclosingFunction(fn)
      if (!outer || returnedHandler(outer.fn) !== fn) continue
      path = outer.path
      factory = true
    }
    const use = bodyUse(fn, context.taint)
    if (!use.read) continue
    const { line, column } = place(parsed.sourceFile, use.read)
    const suppression = findSuppression(parsed.suppressions, line, 'unvalidated-body')
    flow.handler(
      path,
      { line, column, validates: use.validates, suppressedBy: suppression?.reason },
      factory,
    )
  }
}

function checkFile(
  parsed: ParsedFile,
  context: FileContext,
  flow: FileFlow,
  probe: Probe,
  rules: readonly Rule[],
  analysis: FileAnalysis,
): void {
  const { sourceFile, suppressions, file } = parsed
  const seen = new Set<string>()
  const asked: ts.Expression[] = []
  const toFinding = (rule: Rule, report: RuleReport): Finding => {
    const { line, column } = place(sourceFile, report.node)
    return {
      file: file.display,
      line,
      column,
      ruleId: rule.id,
      severity: report.severity ?? rule.severity,
      message: report.message,
      fix: report.fix ?? rule.fix,
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) recordCall(node, parsed, context, flow)
    for (const rule of rules) {
      const report = rule.check(node, context)
      const finding = report && toFinding(rule, report)
      if (asked.length > 0) {
        const values = asked.splice(0)
        probe.asked = undefined
        recordConditional(node, rule, finding, values, parsed, context)
        probe.asked = asked
      }
      if (!finding) continue
      const key = `${rule.id}:${finding.line}:${finding.column}`
      if (seen.has(key)) continue
      seen.add(key)
      const suppression = findSuppression(suppressions, finding.line, rule.id)
      if (suppression) analysis.suppressed.push({ ...finding, reason: suppression.reason })
      else analysis.findings.push(finding)
    }
    node.forEachChild(visit)
  }

  // A rule asked about values that are not request data but come from a parameter of the
  // function around them: check again as if they were, and keep the finding that makes for
  // the project to emit if a caller passes request data there.
  const recordConditional = (
    node: ts.Node,
    rule: Rule,
    actual: Finding | undefined,
    values: ts.Expression[],
    parsedFile: ParsedFile,
    ctx: FileContext,
  ): void => {
    const owner = ctx.enclosingFunction(node)
    if (!owner) return
    const parameters = new Set<number>()
    for (const value of values) {
      if (isStaticValue(value)) continue
      for (const i of ctx.taint.parameterOrigins(value, owner.fn)) parameters.add(i)
      for (const i of ctx.taint.parameterOrigins(value, owner.fn, 'json')) parameters.add(i)
    }
    for (const i of parameters) {
      const assumed: FileContext = {
        ...ctx,
        isRequestData: (e) =>
          ctx.taint.isRequestData(e) || ctx.taint.parameterOrigins(e, owner.fn).includes(i),
        isRequestJson: (e) =>
          ctx.taint.isRequestJson(e) || ctx.taint.parameterOrigins(e, owner.fn, 'json').includes(i),
      }
      const report = rule.check(node, assumed)
      if (!report) continue
      const finding = toFinding(rule, report)
      if (actual && actual.severity === finding.severity && actual.message === finding.message) {
        continue
      }
      const suppression = findSuppression(parsedFile.suppressions, finding.line, rule.id)
      flow.sink(owner.path, i, { finding, suppressedBy: suppression?.reason })
    }
  }
  probe.asked = asked
  visit(sourceFile)
  probe.asked = undefined
}

// A call to a function of this file or of a scanned local module: which of its arguments are
// request data, and which pass on a parameter of the function the call is in.
function recordCall(
  call: ts.CallExpression,
  parsed: ParsedFile,
  context: FileContext,
  flow: FileFlow,
): void {
  if (call.arguments.length === 0) return
  const ref = context.resolveFunction(call.expression)
  if (!ref) return
  let owner: ReturnType<FileContext['enclosingFunction']> | null = null
  for (let j = 0; j < call.arguments.length; j++) {
    const arg = call.arguments[j] as ts.Expression
    if (isStaticValue(arg) || ts.isFunctionLike(arg) || ts.isSpreadElement(arg)) continue
    if (context.taint.isRequestData(arg)) {
      const { line } = place(parsed.sourceFile, call)
      flow.requestCall(ref, j, `${parsed.file.display}:${line}`)
      continue
    }
    owner ??= context.enclosingFunction(call)
    if (!owner) continue
    for (const i of context.taint.parameterOrigins(arg, owner.fn))
      flow.forward(owner.path, i, ref, j)
  }
}

function place(sourceFile: ts.SourceFile, node: ts.Node): { line: number; column: number } {
  const start = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile))
  return { line: start.line + 1, column: start.character + 1 }
}
