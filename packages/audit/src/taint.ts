import ts from 'typescript'
import { type Bindings, qualifiedName } from './bindings.js'
import {
  type HandlerFunction,
  isFunctionLike,
  looksLikeHandler,
  requestParameter,
  routeMethod,
} from './express.js'

/** Properties of an Express request that the client controls. */
const REQUEST_SOURCES = new Set(['body', 'query', 'params', 'headers', 'cookies'])
// req.get('x-y'), req.header('x-y'), req.param('id'): client-controlled too.
const REQUEST_GETTERS = new Set(['get', 'header', 'param'])
// Calls that hand their (string) argument back in another shape, so taint flows through.
const PASS_THROUGH = new Set([
  'String',
  'JSON.parse',
  'Buffer.from',
  'decodeURIComponent',
  'decodeURI',
  'path.join',
  'path.resolve',
  'path.normalize',
  'util.format',
])

/** What one handler knows: the names of its request and of locals holding request data. */
interface RequestScope {
  requestNames: Set<string>
  tainted: Set<string>
}

/**
 * Request-data tracking within Express-style handlers: `req.body` and friends, and locals
 * assigned from them in the same function (including callbacks nested inside it).
 */
export class RequestTaint {
  private readonly scopes = new Map<ts.Node, RequestScope>()

  constructor(
    sourceFile: ts.SourceFile,
    private readonly bindings: Bindings,
  ) {
    for (const fn of findHandlers(sourceFile)) this.scopes.set(fn, this.buildScope(fn))
  }

  /** True when `expr` is, or is built from, request data of an enclosing handler. */
  isRequestData(expr: ts.Expression): boolean {
    const scope = this.scopeAt(expr)
    return scope !== undefined && this.tainted(expr, scope, 0)
  }

  /** True when `node` reads `req.body` (or destructures `body` from the request). */
  readsBody(node: ts.Node, fn: ts.Node): boolean {
    const scope = this.scopes.get(fn)
    if (!scope) return false
    return isBodyAccess(node, scope.requestNames)
  }

  /** The handler functions found in the file. */
  handlers(): ts.Node[] {
    return [...this.scopes.keys()]
  }

  private scopeAt(node: ts.Node): RequestScope | undefined {
    let merged: RequestScope | undefined
    for (let current: ts.Node | undefined = node; current; current = current.parent) {
      const scope = this.scopes.get(current)
      if (!scope) continue
      merged ??= { requestNames: new Set(), tainted: new Set() }
      for (const name of scope.requestNames) merged.requestNames.add(name)
      for (const name of scope.tainted) merged.tainted.add(name)
    }
    return merged
  }

  private buildScope(fn: HandlerFunction): RequestScope {
    const scope: RequestScope = { requestNames: new Set(), tainted: new Set() }
    const param = requestParameter(fn)
    if (param && ts.isIdentifier(param.name)) scope.requestNames.add(param.name.text)
    if (param && ts.isObjectBindingPattern(param.name)) bindFromRequest(param.name, scope)
    if (!fn.body) return scope
    // Two passes catch a local that is tainted by one declared after it (loops, callbacks).
    for (let pass = 0; pass < 2; pass++) {
      const visit = (node: ts.Node): void => {
        this.propagate(node, scope)
        ts.forEachChild(node, visit)
      }
      visit(fn.body)
    }
    return scope
  }

  private propagate(node: ts.Node, scope: RequestScope): void {
    if (ts.isVariableDeclaration(node) && node.initializer) {
      const init = node.initializer
      if (ts.isIdentifier(init) && scope.requestNames.has(init.text)) {
        if (ts.isObjectBindingPattern(node.name)) bindFromRequest(node.name, scope)
        else if (ts.isIdentifier(node.name)) scope.requestNames.add(node.name.text)
      } else if (this.tainted(init, scope, 0)) {
        bindAll(node.name, scope.tainted)
      }
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isIdentifier(node.left) &&
      this.tainted(node.right, scope, 0)
    ) {
      scope.tainted.add(node.left.text)
    } else if (
      (ts.isForOfStatement(node) || ts.isForInStatement(node)) &&
      ts.isVariableDeclarationList(node.initializer) &&
      this.tainted(node.expression, scope, 0)
    ) {
      for (const decl of node.initializer.declarations) bindAll(decl.name, scope.tainted)
    }
  }

  private tainted(expr: ts.Expression, scope: RequestScope, depth: number): boolean {
    if (depth > 12) return false
    const next = (e: ts.Expression): boolean => this.tainted(e, scope, depth + 1)
    if (ts.isIdentifier(expr)) return scope.tainted.has(expr.text)
    if (
      ts.isParenthesizedExpression(expr) ||
      ts.isAsExpression(expr) ||
      ts.isNonNullExpression(expr) ||
      ts.isSatisfiesExpression(expr) ||
      ts.isAwaitExpression(expr) ||
      ts.isSpreadElement(expr)
    ) {
      return next(expr.expression)
    }
    if (ts.isPropertyAccessExpression(expr) || ts.isElementAccessExpression(expr)) {
      return isRequestSource(expr, scope.requestNames) || next(expr.expression)
    }
    if (ts.isTemplateExpression(expr)) return expr.templateSpans.some((s) => next(s.expression))
    if (ts.isBinaryExpression(expr)) return next(expr.left) || next(expr.right)
    if (ts.isConditionalExpression(expr)) return next(expr.whenTrue) || next(expr.whenFalse)
    if (ts.isArrayLiteralExpression(expr)) return expr.elements.some(next)
    if (ts.isObjectLiteralExpression(expr)) {
      return expr.properties.some(
        (p) =>
          (ts.isPropertyAssignment(p) && next(p.initializer)) ||
          (ts.isSpreadAssignment(p) && next(p.expression)) ||
          (ts.isShorthandPropertyAssignment(p) && scope.tainted.has(p.name.text)),
      )
    }
    if (ts.isCallExpression(expr)) return this.taintedCall(expr, scope, next)
    return false
  }

  private taintedCall(
    call: ts.CallExpression,
    scope: RequestScope,
    next: (e: ts.Expression) => boolean,
  ): boolean {
    const callee = call.expression
    if (ts.isPropertyAccessExpression(callee)) {
      const receiver = callee.expression
      const getter = REQUEST_GETTERS.has(callee.name.text)
      if (getter && ts.isIdentifier(receiver) && scope.requestNames.has(receiver.text)) return true
      // x.trim(), x.toString(), x.split(','): a method of request data returns request data.
      if (next(receiver)) return true
    }
    const name = qualifiedName(callee, this.bindings)
    return name !== undefined && PASS_THROUGH.has(name) && call.arguments.some(next)
  }
}

/** `req.body`, `req.query.x`, `req['params']`: a read of a client-controlled request part. */
function isRequestSource(expr: ts.Expression, requestNames: Set<string>): boolean {
  if (!ts.isPropertyAccessExpression(expr) && !ts.isElementAccessExpression(expr)) return false
  const receiver = expr.expression
  if (!ts.isIdentifier(receiver) || !requestNames.has(receiver.text)) return false
  const key = ts.isPropertyAccessExpression(expr) ? expr.name.text : literalKey(expr)
  return key !== undefined && REQUEST_SOURCES.has(key)
}

function isBodyAccess(node: ts.Node, requestNames: Set<string>): boolean {
  if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
    const receiver = node.expression
    const key = ts.isPropertyAccessExpression(node) ? node.name.text : literalKey(node)
    return key === 'body' && ts.isIdentifier(receiver) && requestNames.has(receiver.text)
  }
  if (ts.isVariableDeclaration(node) && node.initializer && ts.isObjectBindingPattern(node.name)) {
    const init = node.initializer
    return (
      ts.isIdentifier(init) &&
      requestNames.has(init.text) &&
      node.name.elements.some((e) => bindingKey(e) === 'body')
    )
  }
  if (ts.isParameter(node) && ts.isObjectBindingPattern(node.name)) {
    return node.name.elements.some((e) => bindingKey(e) === 'body')
  }
  return false
}

function literalKey(expr: ts.ElementAccessExpression): string | undefined {
  return ts.isStringLiteralLike(expr.argumentExpression) ? expr.argumentExpression.text : undefined
}

function bindingKey(element: ts.BindingElement): string | undefined {
  const key = element.propertyName ?? element.name
  return ts.isIdentifier(key) || ts.isStringLiteral(key) ? key.text : undefined
}

// `const { body, query: q } = req`: body and q hold request data; other keys do not.
function bindFromRequest(pattern: ts.ObjectBindingPattern, scope: RequestScope): void {
  for (const element of pattern.elements) {
    const key = bindingKey(element)
    if (key !== undefined && REQUEST_SOURCES.has(key)) bindAll(element.name, scope.tainted)
  }
}

function bindAll(name: ts.BindingName, into: Set<string>): void {
  if (ts.isIdentifier(name)) {
    into.add(name.text)
    return
  }
  for (const element of name.elements) {
    if (ts.isBindingElement(element)) bindAll(element.name, into)
  }
}

/** Functions passed to route methods, functions named in them, and `(req, res)` look-alikes. */
function findHandlers(sourceFile: ts.SourceFile): HandlerFunction[] {
  const found = new Set<HandlerFunction>()
  const named = new Set<string>()
  const candidates: [string | undefined, HandlerFunction][] = []
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && routeMethod(node) !== undefined) {
      for (const arg of node.arguments) {
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
  }
  return [...found]
}

function declaredName(fn: ts.ArrowFunction | ts.FunctionExpression): string | undefined {
  const parent = fn.parent
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  if (ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  return fn.name?.text
}
