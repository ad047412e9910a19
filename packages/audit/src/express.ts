import ts from 'typescript'
import type { Bindings } from './bindings.js'
import { isNestHandler, looksLikeKoaHandler } from './sources.js'

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
  // `map.get(key)` and `headers.get('x')` have no function argument, so they are no route;
  // `app.post('/login', sessions.login)` names its handler after a path.
  const args = call.arguments
  const routed =
    args.some((arg) => isFunctionLike(arg) || ts.isIdentifier(arg)) ||
    (args.length >= 2 && isRoutePath(args[0])) ||
    (args.length > 0 && isRouteChain(callee.expression))
  return routed ? name : undefined
}

// `app.route('/invoices').post(...)`: the path was given to route().
function isRouteChain(receiver: ts.Expression): boolean {
  return (
    ts.isCallExpression(receiver) &&
    ts.isPropertyAccessExpression(receiver.expression) &&
    (receiver.expression.name.text === 'route' || isRouteChain(receiver.expression.expression))
  )
}

// '/users/:id', `/v1/*`, /^\/files/: the first argument of a route with a path.
function isRoutePath(arg: ts.Expression | undefined): boolean {
  if (!arg) return false
  if (ts.isRegularExpressionLiteral(arg)) return true
  const text = ts.isStringLiteralLike(arg)
    ? arg.text
    : ts.isTemplateExpression(arg)
      ? arg.head.text
      : undefined
  return text !== undefined && /^[/*]/.test(text)
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
 * True when a function looks like an Express-style or Koa handler on its own: its request
 * parameter is called `req`/`request`, is typed `Request`, destructures `body`, `query`...
 * beside a second parameter, or is a Koa context beside `next` (sources.ts). Functions passed to a
 * route method count whatever their parameters are called; the caller checks that.
 */
export function looksLikeHandler(fn: HandlerFunction): boolean {
  const param = requestParameter(fn)
  if (!param) return false
  if (ts.isIdentifier(param.name) && REQUEST_NAME.test(param.name.text)) return true
  if (looksLikeKoaHandler(fn.parameters)) return true
  if (param.type !== undefined) return REQUEST_TYPE.test(param.type.getText())
  // `({ body }, res) => ...`: a request destructured in place, beside a response.
  return (
    fn.parameters.length >= 2 &&
    ts.isObjectBindingPattern(param.name) &&
    param.name.elements.some((e) => {
      const key = e.propertyName ?? e.name
      return ts.isIdentifier(key) && DESTRUCTURED_REQUEST_KEYS.has(key.text)
    })
  )
}

const DESTRUCTURED_REQUEST_KEYS = new Set([
  'body',
  'query',
  'params',
  'headers',
  'cookies',
  'files',
])

/**
 * The handlers of a file: functions passed to route methods, functions named in them, `(req,
 * res)` and `(ctx)` look-alikes, and NestJS controller methods.
 */
export function findHandlers(sourceFile: ts.SourceFile, bindings: Bindings): HandlerFunction[] {
  const found = new Set<HandlerFunction>()
  const named = new Set<string>()
  const candidates: [string | undefined, HandlerFunction][] = []
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && routeMethod(node) !== undefined) {
      for (const routeArg of node.arguments) {
        // `asyncHandler(users.create)`, `catchErrors((req, res) => ...)`: a wrapped handler.
        const wrapped = ts.isCallExpression(routeArg) && routeArg.arguments.length === 1
        const arg = wrapped ? (routeArg.arguments[0] as ts.Expression) : routeArg
        if (isFunctionLike(arg)) found.add(arg)
        else if (ts.isIdentifier(arg)) named.add(arg.text)
        // `router.post('/x', users.create)`: a controller method named by the route.
        else if (ts.isPropertyAccessExpression(arg)) named.add(arg.name.text)
      }
    }
    if (ts.isFunctionDeclaration(node)) candidates.push([node.name?.text, node])
    if (ts.isMethodDeclaration(node) && ts.isIdentifier(node.name)) {
      candidates.push([node.name.text, node])
    }
    if (isFunctionLike(node)) candidates.push([declaredName(node), node])
    ts.forEachChild(node, visit)
  }
  visit(sourceFile)
  for (const [name, fn] of candidates) {
    if (fn.parameters.length === 0) continue
    if ((name !== undefined && named.has(name)) || looksLikeHandler(fn)) found.add(fn)
    else if (isNestHandler(fn, bindings)) found.add(fn)
  }
  return [...found]
}

function declaredName(fn: ts.ArrowFunction | ts.FunctionExpression): string | undefined {
  const parent = fn.parent
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  if (ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  if (ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  // `this.create = function (req, res) {...}`, `exports.create = ...`
  if (
    ts.isBinaryExpression(parent) &&
    parent.right === fn &&
    ts.isPropertyAccessExpression(parent.left)
  ) {
    return parent.left.name.text
  }
  return fn.name?.text
}
