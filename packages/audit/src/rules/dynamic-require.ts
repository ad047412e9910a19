import ts from 'typescript'
import type { Rule } from '../types.js'

/** require() or import() of a path that request data chose. */
export const dynamicRequire: Rule = {
  id: 'dynamic-require',
  severity: 'high',
  title: 'Request data chooses a module to load',
  description:
    'require() and import() run the top level of the file they load. A path built from ' +
    'request data lets the client load any module or file on disk (with `../`), including one ' +
    'it managed to upload. Computed paths built only from constants are not reported.',
  fix: 'Map the request value to a module through a fixed table: handlers[name] ?? notFound.',
  bad: `const plugin = require(\`./plugins/\${req.params.name}\`)`,
  good: "const plugins = { csv: require('./plugins/csv') }\nconst plugin = plugins[req.params.name]",
  check(node, file) {
    if (!ts.isCallExpression(node)) return undefined
    const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword
    const callee = isImport ? 'import' : file.calleeName(node)
    if (callee !== 'import' && callee !== 'require' && callee !== 'module.require') return undefined
    const path = node.arguments[0]
    if (!path || !file.isRequestData(path)) return undefined
    return { node, message: `${callee}() loads a module path built from request data` }
  },
}
