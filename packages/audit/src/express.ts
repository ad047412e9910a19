import ts from 'typescript'

/** Methods of an Express app, router or `app.route()` that take middleware and handlers. */
const ROUTE_METHODS = new Set([
  'get',
  'post',
  'put',
  'patch',
  'delete',
  'del',
  'all',
  'use',
  'options',
  'head',
])

/** Methods whose handlers normally receive a body worth validating. */
export const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete', 'all'])

/** `app.post(...)`, `router.use(...)`, `app.route('/x').put(...)`: the method name, else undefined. */
export function routeMethod(call: ts.CallExpression): string | undefined {
  const callee = call.expression
  if (!ts.isPropertyAccessExpression(callee)) return undefined
  const name = callee.name.text
  if (!ROUTE_METHODS.has(name)) return undefined
  // `map.get(key)` and `headers.get('x')` have no function argument, so they are no route.
  return call.arguments.some((arg) => isFunctionLike(arg) || ts.isIdentifier(arg))
    ? name
    : undefined
}

/** A function that may be a handler: arrow, function expression or declaration, method. */
export type HandlerFunction =
  ts.ArrowFunction | ts.FunctionExpression | ts.FunctionDeclaration | ts.MethodDeclaration

/** True for an arrow or function expression. */
export function isFunctionLike(node: ts.Node): node is ts.ArrowFunction | ts.FunctionExpression {
  return ts.isArrowFunction(node) || ts.isFunctionExpression(node)
}

/** The parameter that holds the request: the second of four (error handlers), else the first. */
export function requestParameter(
  fn: ts.SignatureDeclarationBase,
): ts.ParameterDeclaration | undefined {
  return fn.parameters.length === 4 ? fn.parameters[1] : fn.parameters[0]
}

const REQUEST_NAME = /^(req|request)$/i
const REQUEST_TYPE = /\bRequest\b/

/**
 * True when a function looks like an Express-style handler on its own: its request parameter
 * is called `req`/`request` or is typed `Request`. Functions passed to a route method count
 * whatever their parameters are called; the caller checks that.
 */
export function looksLikeHandler(fn: HandlerFunction): boolean {
  const param = requestParameter(fn)
  if (!param) return false
  if (ts.isIdentifier(param.name) && REQUEST_NAME.test(param.name.text)) return true
  return param.type !== undefined && REQUEST_TYPE.test(param.type.getText())
}
