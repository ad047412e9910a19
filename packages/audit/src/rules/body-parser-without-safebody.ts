import ts from 'typescript'
import type { Rule } from '../types.js'

const PARSERS = new Set([
  'express.json',
  'express.urlencoded',
  'express.text',
  'express.raw',
  'body-parser',
  'body-parser.json',
  'body-parser.urlencoded',
  'body-parser.text',
  'body-parser.raw',
])

/** express.json() or body-parser in a file that does not use safebody. */
export const bodyParserWithoutSafebody: Rule = {
  id: 'body-parser-without-safebody',
  severity: 'low',
  title: 'Bodies are parsed by body-parser without safebody',
  description:
    'express.json(), express.urlencoded() and body-parser parse any body of their type into ' +
    'req.body, with no schema, no refusal of `__proto__` keys and no depth or key limits, in a ' +
    'file that does not import safebody. Handlers then see whatever the client sent.',
  fix:
    "Use safebody's drop-in facade (import { json } from 'safebody/body-parser'), or bind " +
    "schemas to routes with safeBody({ schemas, routes }) (import { safeBody } from 'safebody').",
  bad: "import express from 'express'\napp.use(express.json())",
  good:
    "import { safeBody } from 'safebody'\n" +
    "app.use(safeBody({ schemas: './schemas', routes: { 'POST /users': 'user' } }))",
  check(node, file) {
    if (!ts.isCallExpression(node)) return undefined
    const callee = file.calleeName(node)
    if (callee === undefined || !PARSERS.has(callee)) return undefined
    const usesSafebody = [...file.bindings.values()].some((target) => target.startsWith('safebody'))
    if (usesSafebody) return undefined
    return { node, message: `${callee}() parses bodies without safebody's guard and schema` }
  },
}
