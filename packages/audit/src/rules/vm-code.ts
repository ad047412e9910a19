import ts from 'typescript'
import { isStaticValue } from '../context.js'
import type { Rule } from '../types.js'

// The node:vm entry points that compile their first argument; vm is no security boundary.
const VM_COMPILERS = new Set([
  'vm.runInNewContext',
  'vm.runInThisContext',
  'vm.runInContext',
  'vm.compileFunction',
  'vm.Script',
  'vm.SourceTextModule',
])

/** node:vm compiling code that is not fixed in the source. */
export const vmCode: Rule = {
  id: 'vm-code',
  severity: 'high',
  title: 'Code built from data is compiled with node:vm',
  description:
    'vm.runIn*Context, vm.compileFunction and new vm.Script compile their first argument. ' +
    'node:vm is not a sandbox: code inside it can reach the host through constructors and ' +
    'escape. Critical when the code is request data.',
  fix: 'Do not run data as code; interpret a small, validated data format instead.',
  bad: 'vm.runInNewContext(req.body.expression, { Math })',
  good: 'const result = evaluateExpression(parseExpression(req.body.expression)) // a data AST',
  check(node, file) {
    if (!ts.isCallExpression(node) && !ts.isNewExpression(node)) return undefined
    const callee = file.calleeName(node)
    if (callee === undefined || !VM_COMPILERS.has(callee)) return undefined
    const code = node.arguments?.[0]
    if (!code || isStaticValue(code)) return undefined
    const fromRequest = file.isRequestData(code)
    return {
      node,
      message: fromRequest
        ? `${callee} compiles request data as code`
        : `${callee} compiles a string that is not a literal`,
      severity: fromRequest ? 'critical' : undefined,
    }
  },
}
