import ts from 'typescript'
import { isStaticValue } from '../context.js'
import type { Rule } from '../types.js'

// Loaders that rebuild functions from their input, so the input can run code on load.
const LOADERS = new Map([
  [
    'node-serialize.unserialize',
    'node-serialize unserialize() calls eval on `_$$ND_FUNC$$_` values',
  ],
  ['funcster.deepDeserialize', 'funcster deepDeserialize() compiles serialized functions'],
  ['serialize-to-js.deserialize', 'serialize-to-js deserialize() evaluates its input'],
  ['cryo.parse', 'cryo parse() restores functions and prototypes from its input'],
])

/** Known deserializers that turn data into code (node-serialize, funcster, serialize-to-js). */
export const unsafeDeserializer: Rule = {
  id: 'unsafe-deserializer',
  severity: 'critical',
  title: 'A deserializer that can run code reads data',
  description:
    'node-serialize unserialize(), funcster deepDeserialize(), serialize-to-js deserialize() ' +
    'and cryo parse() rebuild functions from their input; an immediately invoked function ' +
    'expression in the data runs during the call. There is no safe input for them.',
  fix: 'Exchange plain data: JSON.parse (or a safebody decoder) and rebuild behaviour in code.',
  bad: "const serialize = require('node-serialize')\nconst session = serialize.unserialize(cookie)",
  good: 'const session = JSON.parse(cookie)',
  check(node, file) {
    if (!ts.isCallExpression(node)) return undefined
    const callee = file.calleeName(node)
    const why = callee === undefined ? undefined : LOADERS.get(callee)
    const input = node.arguments[0]
    if (why === undefined || !input || isStaticValue(input)) return undefined
    const origin = file.isRequestData(input) ? ' on request data' : ''
    return { node, message: `${why}${origin}` }
  },
}
