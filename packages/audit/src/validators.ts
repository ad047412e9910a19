import ts from 'typescript'
import { type Bindings, unwrap } from './bindings.js'

// Packages whose middleware validates (or, for safebody, decodes and validates) a body.
const VALIDATOR_MODULES = [
  'safebody',
  'express-validator',
  'celebrate',
  'express-joi-validation',
  'express-json-validator-middleware',
  'express-openapi-validator',
  'zod-express-middleware',
  'express-zod-api',
  'express-ajv-middleware',
]
// Names people give validation middleware: validateBody, checkSchema, safeBody(schema)...
const VALIDATOR_NAME = /safe_?body|valid|schema|celebrate|sanitiz/i
// Calls that validate a value they are given: schema.parse(x), ajv.validate(s, x), assert(x).
const VALIDATING_CALL =
  /^(validate\w*|safeParse\w*|parse(Async)?|assert\w*|check\w*|is[A-Z]\w*|cast|decode)$/
const PLAIN_PARSERS = new Set(['JSON', 'qs', 'querystring', 'Number', 'Date', 'path', 'url', 'URL'])

/**
 * True when a route argument (middleware) validates the body, by package or by the name of the
 * middleware itself: the identifier passed (`validateBody`), the callee of a call
 * (`celebrate({...})`, `validator.body(schema)`, `body('email').isEmail()`), or an element of
 * an array of them. The arguments of a call are not looked at: `cors({ origin: validOrigins })`
 * is cors. A local named otherwise counts by what it holds (`const rules = celebrate({...})`).
 */
export function isValidatorMiddleware(
  expr: ts.Node,
  bindings: Bindings,
  sourceFile?: ts.SourceFile,
  depth = 0,
): boolean {
  const node = ts.isExpression(expr) ? unwrap(expr) : expr
  const again = (next: ts.Node) => isValidatorMiddleware(next, bindings, sourceFile, depth)
  if (ts.isIdentifier(node)) {
    const target = bindings.get(node.text)
    if (target !== undefined && VALIDATOR_MODULES.some((m) => target.startsWith(m))) return true
    if (VALIDATOR_NAME.test(node.text)) return true
    const init = sourceFile && depth < 3 ? constInitializers(sourceFile).get(node.text) : undefined
    return init !== undefined && isValidatorMiddleware(init, bindings, sourceFile, depth + 1)
  }
  if (ts.isPropertyAccessExpression(node)) {
    return VALIDATOR_NAME.test(node.name.text) || again(node.expression)
  }
  if (ts.isCallExpression(node)) return again(node.expression)
  if (ts.isArrayLiteralExpression(node)) return node.elements.some(again)
  // fastify's route options: `{ schema: { body } }`, inline or in a const.
  if (ts.isObjectLiteralExpression(node)) return validatesBodyBySchema(node, sourceFile)
  return false
}

// `{ schema: { body: ... } }`: a schema with only `querystring`, `params` or `headers` does not
// validate the body. A schema given by a name is looked up among the file's const object
// literals; one that cannot be found (imported) is taken to validate, as its name says.
function validatesBodyBySchema(
  options: ts.ObjectLiteralExpression,
  sourceFile: ts.SourceFile | undefined,
): boolean {
  const schema = propertyValue(options, 'schema')
  if (schema === undefined) return false
  const literal = objectLiteral(schema, sourceFile)
  if (literal === undefined) return !ts.isObjectLiteralExpression(unwrap(schema))
  return propertyValue(literal, 'body') !== undefined
}

// The value of a property of an object literal by name (`schema: x`, or `schema` shorthand).
function propertyValue(
  object: ts.ObjectLiteralExpression,
  name: string,
): ts.Expression | undefined {
  for (const property of object.properties) {
    if (ts.isPropertyAssignment(property) && propertyName(property.name) === name) {
      return property.initializer
    }
    if (ts.isShorthandPropertyAssignment(property) && property.name.text === name) {
      return property.name
    }
  }
  return undefined
}

// An object literal, or the const object literal a name stands for in this file.
function objectLiteral(
  expr: ts.Expression,
  sourceFile: ts.SourceFile | undefined,
): ts.ObjectLiteralExpression | undefined {
  const inner = unwrap(expr)
  if (ts.isObjectLiteralExpression(inner)) return inner
  if (!ts.isIdentifier(inner) || !sourceFile) return undefined
  const init = constInitializers(sourceFile).get(inner.text)
  return init && ts.isObjectLiteralExpression(init) ? init : undefined
}

function propertyName(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined
}

const initializers = new WeakMap<ts.SourceFile, Map<string, ts.Expression>>()

// Top-level `const name = <call>` (or let, var) and `const name = { ... }` initializers of a
// file, read once.
function constInitializers(sourceFile: ts.SourceFile): Map<string, ts.Expression> {
  let found = initializers.get(sourceFile)
  if (!found) {
    found = new Map()
    for (const statement of sourceFile.statements) {
      if (!ts.isVariableStatement(statement)) continue
      const isConst = (statement.declarationList.flags & ts.NodeFlags.Const) !== 0
      for (const decl of statement.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name) || !decl.initializer) continue
        const literal = unwrap(decl.initializer)
        if (ts.isCallExpression(decl.initializer)) found.set(decl.name.text, decl.initializer)
        else if (isConst && ts.isObjectLiteralExpression(literal))
          found.set(decl.name.text, literal)
      }
    }
    initializers.set(sourceFile, found)
  }
  return found
}

/** True for a call that looks like it validates its argument (not JSON.parse and the like). */
export function isValidatingCall(call: ts.CallExpression): boolean {
  const callee = call.expression
  if (ts.isIdentifier(callee))
    return VALIDATING_CALL.test(callee.text) || callee.text === 'validationResult'
  if (!ts.isPropertyAccessExpression(callee)) return false
  const receiver = callee.expression
  if (ts.isIdentifier(receiver) && PLAIN_PARSERS.has(receiver.text)) return false
  return VALIDATING_CALL.test(callee.name.text)
}

/**
 * True when the file mounts a validator for every route: `app.use(safeBody(...))` or
 * `router.use(validate)`, without a path as first argument.
 */
export function mountsGlobalValidator(sourceFile: ts.SourceFile, bindings: Bindings): boolean {
  const visit = (node: ts.Node): boolean => {
    if (ts.isCallExpression(node) && isUseCall(node)) {
      const [first] = node.arguments
      const scoped = first !== undefined && ts.isStringLiteralLike(first)
      if (
        !scoped &&
        node.arguments.some((arg) => isValidatorMiddleware(arg, bindings, sourceFile))
      ) {
        return true
      }
    }
    return ts.forEachChild(node, visit) ?? false
  }
  return visit(sourceFile)
}

function isUseCall(call: ts.CallExpression): boolean {
  const callee = call.expression
  return ts.isPropertyAccessExpression(callee) && callee.name.text === 'use'
}
