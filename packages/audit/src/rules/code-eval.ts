import ts from 'typescript'
import { isStaticValue } from '../context.js'
import type { Rule } from '../types.js'

/** eval, new Function and Function() on code that is not fixed in the source. */
export const codeEval: Rule = {
  id: 'code-eval',
  severity: 'high',
  title: 'Code built from data is executed with eval or Function',
  description:
    'eval(), new Function() and Function() compile a string into code that runs with the ' +
    "module's full authority. When the string is not a literal, whoever controls it controls " +
    'the process. Critical when the string is request data.',
  fix: 'Parse the data with JSON.parse (or a safebody decoder) instead of evaluating it.',
  bad: `const filter = eval(\`(\${req.query.filter})\`)`,
  good: 'const filter = JSON.parse(String(req.query.filter))',
  check(node, file) {
    if (!ts.isCallExpression(node) && !ts.isNewExpression(node)) return undefined
    const callee = file.calleeName(node)
    const args = node.arguments ?? []
    let code: readonly ts.Expression[]
    if (callee === 'eval' && ts.isCallExpression(node)) code = args.slice(0, 1)
    else if (callee === 'Function') code = args
    else return undefined
    const dynamic = code.filter((arg) => !isStaticValue(arg))
    if (dynamic.length === 0) return undefined
    const fromRequest = dynamic.some((arg) => file.isRequestData(arg))
    const what = callee === 'eval' ? 'eval()' : 'Function()'
    return {
      node,
      message: fromRequest
        ? `${what} runs request data as code`
        : `${what} runs a string that is not a literal`,
      severity: fromRequest ? 'critical' : undefined,
    }
  },
}
