import { exportedLocalPath } from './functions.js'
import type { FunctionRef } from './modules.js'
import { type Finding, SEVERITIES, type SuppressedFinding } from './types.js'

/**
 * Cross-file facts. Each file is parsed once and dropped, so what a file knows that another
 * may need is written down here as plain data: how its exported handlers use req.body, which
 * of its functions pass a parameter to a sink (a finding that holds only if request data comes
 * in), and which functions it calls with request data or with its own parameters. `finish`
 * joins them once every file was read.
 */

/** Where a handler reads req.body, and whether it validates it itself. */
export interface BodyFacts {
  line: number
  column: number
  validates: boolean
  /** The reason of a suppression comment covering the read, if any. */
  suppressedBy?: string
}

/** A finding that holds when request data reaches a parameter of its function. */
export interface ConditionalFinding {
  finding: Finding
  suppressedBy?: string
}

interface FileSummary {
  exports: ReadonlyMap<string, string>
  handlers: Map<string, BodyFacts>
  factories: Map<string, BodyFacts>
  /** `${localPath}#${parameter}` -> findings that request data in that parameter makes true. */
  sinks: Map<string, ConditionalFinding[]>
  /** `${localPath}#${parameter}` -> calls that pass that parameter on. */
  forwards: Map<string, { to: FunctionRef; arg: number }[]>
}

interface RouteUse {
  to: FunctionRef
  method: string
  guarded: boolean
  factory: boolean
}

/** What one file tells the project while it is being read. */
export interface FileFlow {
  handler(localPath: string, facts: BodyFacts, factory: boolean): void
  sink(localPath: string, parameter: number, conditional: ConditionalFinding): void
  forward(localPath: string, parameter: number, to: FunctionRef, arg: number): void
  route(use: RouteUse): void
  requestCall(to: FunctionRef, arg: number, site: string): void
}

/** The handler's facts and the fix, for the findings `finish` makes for `unvalidated-body`. */
export interface UnvalidatedBodyRule {
  id: string
  severity: Finding['severity']
  fix: string
}

export class ProjectFlow {
  private readonly summaries = new Map<string, FileSummary & { display: string }>()
  private readonly routes: RouteUse[] = []
  private readonly calls: { to: FunctionRef; arg: number; site: string }[] = []

  /** Where the records stand, to roll back a file whose analysis failed half-way. */
  mark(): { routes: number; calls: number } {
    return { routes: this.routes.length, calls: this.calls.length }
  }

  /** Forgets what the file at `path` recorded since `mark()`. */
  rollback(path: string, mark: ReturnType<ProjectFlow['mark']>): void {
    this.summaries.delete(path)
    this.routes.length = mark.routes
    this.calls.length = mark.calls
  }

  /** Starts the summary of one file. */
  file(path: string, display: string, exports: ReadonlyMap<string, string>): FileFlow {
    const summary = {
      display,
      exports,
      handlers: new Map<string, BodyFacts>(),
      factories: new Map<string, BodyFacts>(),
      sinks: new Map<string, ConditionalFinding[]>(),
      forwards: new Map<string, { to: FunctionRef; arg: number }[]>(),
    }
    this.summaries.set(path, summary)
    return {
      handler: (localPath, facts, factory) => {
        ;(factory ? summary.factories : summary.handlers).set(localPath, facts)
      },
      sink: (localPath, parameter, conditional) => {
        push(summary.sinks, `${localPath}#${parameter}`, conditional)
      },
      forward: (localPath, parameter, to, arg) => {
        push(summary.forwards, `${localPath}#${parameter}`, { to, arg })
      },
      route: (use) => this.routes.push(use),
      requestCall: (to, arg, site) => this.calls.push({ to, arg, site }),
    }
  }

  /**
   * Adds the findings that only the whole project shows: handlers in one file that a route in
   * another mounts, and sinks that request data reaches through function parameters.
   */
  finish(
    findings: Finding[],
    suppressed: SuppressedFinding[],
    unvalidatedBody: UnvalidatedBodyRule | undefined,
  ): void {
    const place = (f: Finding) => `${f.file}:${f.ruleId}:${f.line}:${f.column}`
    const known = new Map(findings.map((f, i) => [place(f), i]))
    const knownSuppressed = new Map(suppressed.map((f, i) => [place(f), i]))
    const add = (finding: Finding, suppressedBy: string | undefined): void => {
      const key = place(finding)
      if (suppressedBy !== undefined) {
        const at = knownSuppressed.get(key)
        const entry = { ...finding, reason: suppressedBy }
        if (at === undefined) knownSuppressed.set(key, suppressed.push(entry) - 1)
        else if (worse(finding, suppressed[at] as Finding)) suppressed[at] = entry
        return
      }
      const at = known.get(key)
      if (at === undefined) known.set(key, findings.push(finding) - 1)
      else if (worse(finding, findings[at] as Finding)) findings[at] = finding
    }
    if (unvalidatedBody) this.joinRoutes(unvalidatedBody, add)
    this.joinCalls(add)
  }

  private target(ref: FunctionRef) {
    const summary = this.summaries.get(ref.file)
    if (!summary) return undefined
    const local = ref.exported ? exportedLocalPath(summary.exports, ref.path) : ref.path
    return local === undefined ? undefined : { summary, local }
  }

  private joinRoutes(
    rule: UnvalidatedBodyRule,
    add: (finding: Finding, suppressedBy: string | undefined) => void,
  ): void {
    for (const route of this.routes) {
      if (route.guarded) continue
      const target = this.target(route.to)
      if (!target) continue
      const { summary, local } = target
      const facts = (route.factory ? summary.factories : summary.handlers).get(local)
      if (!facts || facts.validates) continue
      const finding: Finding = {
        file: summary.display,
        line: facts.line,
        column: facts.column,
        ruleId: rule.id,
        severity: rule.severity,
        message: `${route.method} handler reads req.body, which nothing validated`,
        fix: rule.fix,
      }
      add(finding, facts.suppressedBy)
    }
  }

  private joinCalls(add: (finding: Finding, suppressedBy: string | undefined) => void): void {
    const reached = new Set<string>()
    const queue: { summary: FileSummary; key: string; site: string }[] = []
    const enqueue = (ref: FunctionRef, arg: number, site: string): void => {
      const target = this.target(ref)
      if (!target) return
      const key = `${target.local}#${arg}`
      const id = `${ref.file}#${key}`
      if (reached.has(id)) return
      reached.add(id)
      queue.push({ summary: target.summary, key, site })
    }
    for (const call of this.calls) enqueue(call.to, call.arg, call.site)
    for (let item = queue.shift(); item; item = queue.shift()) {
      for (const { finding, suppressedBy } of item.summary.sinks.get(item.key) ?? []) {
        add({ ...finding, message: `${finding.message} (passed in at ${item.site})` }, suppressedBy)
      }
      for (const { to, arg } of item.summary.forwards.get(item.key) ?? []) {
        enqueue(to, arg, item.site)
      }
    }
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

function worse(a: Finding, b: Finding): boolean {
  return SEVERITIES.indexOf(a.severity) < SEVERITIES.indexOf(b.severity)
}
