import ts from 'typescript'
import { qualifiedName } from '../bindings.js'
import type { FileContext } from '../context.js'
import type { Rule } from '../types.js'

const LOADS = new Set(['js-yaml.load', 'js-yaml.loadAll'])
// Schemas that js-yaml 3 shipped without the !!js/function and !!js/regexp types.
const SAFE_V3_SCHEMAS = new Set(
  ['FAILSAFE_SCHEMA', 'JSON_SCHEMA', 'CORE_SCHEMA', 'DEFAULT_SAFE_SCHEMA', 'SAFE_SCHEMA'].map(
    (name) => `js-yaml.${name}`,
  ),
)

/** js-yaml load with JavaScript types: unsafe by default before js-yaml 4, opt-in after. */
export const yamlUnsafeLoad: Rule = {
  id: 'yaml-unsafe-load',
  severity: 'high',
  title: 'js-yaml loads with a schema that includes JavaScript types',
  description:
    'js-yaml before version 4 made load() use DEFAULT_FULL_SCHEMA, whose !!js/function tag ' +
    'compiles code from the document. From version 4 load() is safe unless the schema is ' +
    'extended with js-yaml-js-types or DEFAULT_FULL_SCHEMA. The installed (or declared) js-yaml ' +
    'version near each file decides which case applies. Critical when the document is request ' +
    'data.',
  fix: 'Upgrade to js-yaml 4 and use load() with the default schema (or safeLoad() on js-yaml 3).',
  bad: "const yaml = require('js-yaml') // 3.x\nconst config = yaml.load(req.body)",
  good: "const yaml = require('js-yaml') // 4.x\nconst config = yaml.load(req.body)",
  check(node, file) {
    if (!ts.isCallExpression(node)) return undefined
    const callee = file.calleeName(node)
    if (callee === undefined || !LOADS.has(callee)) return undefined
    const schema = schemaOption(node)
    const major = file.project.jsYamlMajor(file.path)
    let reason: string | undefined
    if (schema && includesJsTypes(schema, file)) {
      reason = 'with a schema that includes JavaScript types'
    } else if (major !== undefined && major < 4 && !isSafeV3Schema(schema, file)) {
      reason = `on js-yaml ${major}.x, where load() allows !!js/function by default`
    }
    if (reason === undefined) return undefined
    const input = node.arguments[0]
    const fromRequest = input !== undefined && file.isRequestData(input)
    return {
      node,
      message: `${callee.slice('js-yaml.'.length)}() ${reason}${fromRequest ? ' on request data' : ''}`,
      severity: fromRequest ? 'critical' : undefined,
    }
  },
}

function schemaOption(call: ts.CallExpression): ts.Expression | undefined {
  for (const arg of call.arguments.slice(1)) {
    if (!ts.isObjectLiteralExpression(arg)) continue
    for (const prop of arg.properties) {
      if (ts.isPropertyAssignment(prop) && prop.name.getText() === 'schema') return prop.initializer
      if (ts.isShorthandPropertyAssignment(prop) && prop.name.text === 'schema') return prop.name
    }
  }
  return undefined
}

function isSafeV3Schema(schema: ts.Expression | undefined, file: FileContext): boolean {
  if (!schema) return false
  const name = qualifiedName(schema, file.bindings)
  return name !== undefined && SAFE_V3_SCHEMAS.has(name)
}

// Any name in the schema expression that comes from js-yaml-js-types or is the full schema,
// following `const schema = ...` declarations in the same file a few steps deep.
function includesJsTypes(schema: ts.Node, file: FileContext, depth = 0): boolean {
  if (depth > 4) return false
  if (ts.isIdentifier(schema)) {
    const name = file.bindings.get(schema.text) ?? schema.text
    if (name.startsWith('js-yaml-js-types') || name.endsWith('DEFAULT_FULL_SCHEMA')) return true
    const init = localInitializer(schema.text, file.sourceFile)
    return init !== undefined && includesJsTypes(init, file, depth + 1)
  }
  return (
    ts.forEachChild(schema, (child) => includesJsTypes(child, file, depth) || undefined) ?? false
  )
}

function localInitializer(name: string, sourceFile: ts.SourceFile): ts.Expression | undefined {
  const visit = (node: ts.Node): ts.Expression | undefined => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name) {
      return node.initializer
    }
    return ts.forEachChild(node, visit)
  }
  return visit(sourceFile)
}
