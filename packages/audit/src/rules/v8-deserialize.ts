import ts from 'typescript'
import { unwrap } from '../bindings.js'
import { isStaticValue } from '../context.js'
import type { Rule } from '../types.js'

const DESERIALIZERS = new Set(['v8.deserialize', 'v8.Deserializer', 'v8.DefaultDeserializer'])

/** v8.deserialize on bytes that this process did not just serialize itself. */
export const v8Deserialize: Rule = {
  id: 'v8-deserialize',
  severity: 'medium',
  title: 'v8.deserialize reads bytes from outside',
  description:
    'The V8 serialization format is an internal, versioned format for trusted peers (worker ' +
    'threads, caches written by the same process). Crafted bytes can build unexpected object ' +
    'graphs, exhaust memory or crash the process. Reported unless the input is v8.serialize() ' +
    'output; high when it is request data.',
  fix: 'Exchange JSON or MessagePack with outside parties and decode it with safebody.',
  bad: 'const job = v8.deserialize(req.body)',
  good: 'const job = JSON.parse(req.body.toString("utf8"))',
  check(node, file) {
    if (!ts.isCallExpression(node) && !ts.isNewExpression(node)) return undefined
    const callee = file.calleeName(node)
    const input = node.arguments?.[0]
    if (callee === undefined || !DESERIALIZERS.has(callee) || !input) return undefined
    if (isStaticValue(input) || isOwnSerialization(input, file.calleeName)) return undefined
    const fromRequest = file.isRequestData(input)
    return {
      node,
      message: fromRequest
        ? `${callee} reads request data`
        : `${callee} reads bytes that may come from outside`,
      severity: fromRequest ? 'high' : undefined,
    }
  },
}

function isOwnSerialization(
  input: ts.Expression,
  calleeName: (call: ts.CallExpression) => string | undefined,
): boolean {
  const inner = unwrap(input)
  return ts.isCallExpression(inner) && calleeName(inner) === 'v8.serialize'
}
