import ts from 'typescript'
import { isStringExpression } from '../context.js'
import type { Rule } from '../types.js'

const TIMERS = new Set(['setTimeout', 'setInterval'])

/** setTimeout/setInterval given a string, which is evaluated like eval. */
export const timerString: Rule = {
  id: 'timer-string',
  severity: 'medium',
  title: 'A timer is given a string of code',
  description:
    'In browsers, setTimeout and setInterval evaluate a string first argument as code, like ' +
    'eval (Node.js throws instead, so in server code it is a latent bug). A built string runs ' +
    'whatever it contains; literals are reported too, since the string form is the problem. ' +
    'High when the string is request data.',
  fix: 'Pass a function: setTimeout(() => refresh(), 1000).',
  bad: "setTimeout('refresh(' + req.query.id + ')', 1000)",
  good: 'setTimeout(() => refresh(id), 1000)',
  check(node, file) {
    if (!ts.isCallExpression(node)) return undefined
    const callee = file.calleeName(node)
    if (callee === undefined || !TIMERS.has(callee)) return undefined
    const first = node.arguments[0]
    if (!first) return undefined
    const fromRequest = file.isRequestData(first) && !ts.isFunctionLike(first)
    if (!fromRequest && !isStringExpression(first)) return undefined
    return {
      node,
      message: fromRequest
        ? `${callee}() evaluates request data as code`
        : `${callee}() is given a string, which it evaluates as code`,
      severity: fromRequest ? 'high' : undefined,
    }
  },
}
