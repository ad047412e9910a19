import ts from 'typescript'
import { qualifiedName, unwrap } from '../bindings.js'
import type { FileContext } from '../context.js'
import { isBefore, type Version } from '../project.js'
import type { Rule } from '../types.js'

/** A library that evaluates expressions, and the releases of it that let them run code. */
interface Evaluator {
  module: string
  /** Qualified callees that take the expression as their first argument. */
  entries: string[]
  /** Half-open [from, to) version ranges with published code-execution advisories. */
  vulnerable?: [Version, Version][]
  /** The first argument is a syntax tree (static-eval): look for request data inside it. */
  takesTree?: boolean
}

const EVALUATORS: Evaluator[] = [
  {
    module: 'mathjs',
    entries: ['eval', 'evaluate', 'compile', 'parse'].map((f) => `mathjs.${f}`),
    vulnerable: [
      [
        [0, 0, 0],
        [11, 9, 1],
      ],
      [
        [13, 1, 0],
        [15, 2, 0],
      ],
    ],
  },
  { module: 'notevil', entries: ['notevil', 'notevil.eval', 'notevil.Function'] },
  { module: 'safe-eval', entries: ['safe-eval'] },
  { module: 'static-eval', entries: ['static-eval'], takesTree: true },
  { module: 'vm2', entries: ['vm2.VM.run', 'vm2.NodeVM.run', 'vm2.VMScript'] },
  { module: 'expr-eval', entries: ['expr-eval.Parser.evaluate', 'expr-eval.Parser.parse'] },
]
const BY_ENTRY = new Map(EVALUATORS.flatMap((e) => e.entries.map((entry) => [entry, e] as const)))

/** Request data given to an expression evaluator whose sandbox has known escapes. */
export const expressionEvaluator: Rule = {
  id: 'expression-evaluator',
  severity: 'critical',
  title: 'Request data is run by an expression evaluator that can run code',
  description:
    'Expression evaluators are code evaluation by another name when their sandbox leaks. ' +
    'mathjs evaluate()/eval()/compile()/parse() before 11.9.1 and from 13.1.0 before 15.2.0 ' +
    'have published advisories for reaching the Function constructor from an expression (the ' +
    'installed or declared mathjs version near the file decides; with no version found it is ' +
    'reported). notevil, safe-eval, vm2 (new VM().run, new NodeVM().run, new VMScript), ' +
    'expr-eval (Parser.evaluate, Parser.parse) and static-eval have published sandbox ' +
    'escapes or say they are not for untrusted input, in every release. Reported when request ' +
    'data is the expression.',
  fix:
    'Do not evaluate request data as an expression: accept numbers and named operations and ' +
    'compute them in code. If users must write formulas, keep mathjs on a release with no ' +
    'open advisory, or run the evaluator in a separate process with no privileges.',
  bad: 'const total = mathjs.eval(req.body.formula) // mathjs 3.10.1',
  good: 'const total = OPERATIONS[req.body.operation](Number(req.body.a), Number(req.body.b))',
  check(node, file) {
    if (!ts.isCallExpression(node) && !ts.isNewExpression(node)) return undefined
    const callee = evaluatorCallee(node, file)
    const evaluator = callee === undefined ? undefined : BY_ENTRY.get(callee)
    if (!callee || !evaluator) return undefined
    const input = node.arguments?.[0]
    if (!input) return undefined
    const fromRequest = evaluator.takesTree
      ? containsRequestData(input, file)
      : file.isRequestData(input)
    if (!fromRequest) return undefined
    const version = file.project.packageVersion(evaluator.module, file.path)
    if (version && evaluator.vulnerable && !inRanges(version, evaluator.vulnerable)) {
      return undefined
    }
    const release = version ? ` ${version.join('.')}` : ''
    return { node, message: `${callee}() (${evaluator.module}${release}) evaluates request data` }
  },
}

// `new VM().run(code)` and `new Parser().evaluate(x)`: the class's member, by its module.
function evaluatorCallee(
  node: ts.CallExpression | ts.NewExpression,
  file: FileContext,
): string | undefined {
  const callee = unwrap(node.expression)
  if (ts.isPropertyAccessExpression(callee)) {
    const receiver = unwrap(callee.expression)
    if (ts.isNewExpression(receiver)) {
      const cls = qualifiedName(receiver.expression, file.bindings)
      return cls === undefined ? undefined : `${cls}.${callee.name.text}`
    }
  }
  return file.calleeName(node)
}

function inRanges(version: Version, ranges: [Version, Version][]): boolean {
  return ranges.some(([from, to]) => !isBefore(version, from) && isBefore(version, to))
}

// evaluate(parse(req.body.expr).body[0].expression): request data somewhere in the tree.
function containsRequestData(expr: ts.Expression, file: FileContext): boolean {
  if (file.isRequestData(expr)) return true
  return (
    ts.forEachChild(
      expr,
      (child) => (ts.isExpression(child) && containsRequestData(child, file)) || undefined,
    ) ?? false
  )
}
