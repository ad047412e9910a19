import ts from 'typescript'
import { type Bindings, qualifiedName } from './bindings.js'
import { findHandlers, type HandlerFunction, requestParameter } from './express.js'
import {
  bindingKey,
  destructureRequest,
  isKoaContext,
  isNestHandler,
  isRequestGetter,
  isRequestSource,
  memberKey,
  nestParameter,
  type RequestKind,
  requestKind,
  type RequestNames,
} from './sources.js'
// Calls that hand their (string) argument back in another shape, so taint flows through.
const PASS_THROUGH = new Set([
  'String',
  'Buffer.from',
  'decodeURIComponent',
  'decodeURI',
  'path.join',
  'path.resolve',
  'path.normalize',
  'util.format',
  // A contextified sandbox is the object it was given.
  'vm.createContext',
])

// Taint is a bit mask: request data is bit 0 in a handler's scope; in a parameter scope, bit i
// marks what derives from parameter i (up to 30 parameters).
const REQUEST = 1
const MAX_PARAMETERS = 30

/**
 * How request data sits in a value: as the client sent it, or inside the output of
 * JSON.stringify, a JSON text whose quoting holds for JavaScript but not for a shell.
 */
type Form = 'raw' | 'json'

/** What one function knows: the names of its request, and the labels of its locals. */
interface RequestScope {
  requestNames: RequestNames
  tainted: Map<string, number>
  /** Locals holding request data serialized by JSON.stringify, by the same labels. */
  serialized: Map<string, number>
}

function emptyScope(): RequestScope {
  return { requestNames: new Map(), tainted: new Map(), serialized: new Map() }
}

/**
 * Request-data tracking within Express-style and Koa handlers: `req.body`, `ctx.request.body`
 * and friends (sources.ts), and locals assigned from them in the same function (including
 * callbacks nested inside it).
 */
export class RequestTaint {
  private readonly scopes = new Map<ts.Node, RequestScope>()
  private readonly found: HandlerFunction[]
  private readonly parameterScopes = new Map<ts.Node, RequestScope>()

  constructor(
    sourceFile: ts.SourceFile,
    private readonly bindings: Bindings,
  ) {
    this.found = findHandlers(sourceFile, bindings)
    for (const fn of this.found) this.scopes.set(fn, this.buildScope(fn))
  }

  /** True when `expr` is, or is built from, request data of an enclosing handler. */
  isRequestData(expr: ts.Expression): boolean {
    const scope = this.scopeAt(expr)
    return scope !== undefined && this.tainted(expr, scope, 0, 'raw') !== 0
  }

  /**
   * True when `expr` holds request data serialized by JSON.stringify, directly or through
   * locals (`const payload = JSON.stringify(req.body)`): quoted, but not for a shell.
   */
  isRequestJson(expr: ts.Expression): boolean {
    const scope = this.scopeAt(expr)
    return scope !== undefined && this.tainted(expr, scope, 0, 'json') !== 0
  }

  /**
   * The parameters of `fn` (indexes) that `expr`, inside `fn`, is built from. Computed the
   * first time a function is asked about, so functions nobody asks about cost nothing.
   */
  parameterOrigins(expr: ts.Expression, fn: HandlerFunction, form: Form = 'raw'): number[] {
    let scope = this.parameterScopes.get(fn)
    if (!scope) {
      scope = emptyScope()
      fn.parameters.slice(0, MAX_PARAMETERS).forEach((param, i) => {
        bindAll(param.name, scope!.tainted, 1 << i)
      })
      this.propagateBody(fn, scope)
      this.parameterScopes.set(fn, scope)
    }
    const mask = this.tainted(expr, scope, 0, form)
    const origins: number[] = []
    for (let i = 0; i < fn.parameters.length && i < MAX_PARAMETERS; i++) {
      if (mask & (1 << i)) origins.push(i)
    }
    return origins
  }

  /**
   * True when `node` reads `req.body` (or destructures `body` from the request) of an
   * Express-style request; Koa's `ctx.request.body` does not count (unvalidated-body is
   * Express's).
   */
  readsBody(node: ts.Node, fn: ts.Node): boolean {
    const scope = this.scopes.get(fn)
    if (!scope) return false
    return isBodyAccess(node, scope.requestNames)
  }

  /** The handler functions found in the file. */
  handlers(): readonly HandlerFunction[] {
    return this.found
  }

  private scopeAt(node: ts.Node): RequestScope | undefined {
    let merged: RequestScope | undefined
    for (let current: ts.Node | undefined = node; current; current = current.parent) {
      const scope = this.scopes.get(current)
      if (!scope) continue
      merged ??= emptyScope()
      for (const [name, kind] of scope.requestNames) merged.requestNames.set(name, kind)
      for (const [name, mask] of scope.tainted) addLabel(merged.tainted, name, mask)
      for (const [name, mask] of scope.serialized) addLabel(merged.serialized, name, mask)
    }
    return merged
  }

  private buildScope(fn: HandlerFunction): RequestScope {
    const scope = emptyScope()
    if (isNestHandler(fn, this.bindings)) {
      for (const p of fn.parameters) {
        const holds = nestParameter(p, this.bindings)
        if (holds === 'data') bindAll(p.name, scope.tainted, REQUEST)
        if (holds !== 'request') continue
        if (ts.isIdentifier(p.name)) scope.requestNames.set(p.name.text, 'express')
        else if (ts.isObjectBindingPattern(p.name)) bindFromRequest(p.name, 'express', scope)
      }
      this.propagateBody(fn, scope)
      return scope
    }
    const param = requestParameter(fn)
    const kind: RequestKind = param && isKoaContext(param) ? 'koaContext' : 'express'
    if (param && ts.isIdentifier(param.name)) scope.requestNames.set(param.name.text, kind)
    if (param && ts.isObjectBindingPattern(param.name)) bindFromRequest(param.name, kind, scope)
    this.propagateBody(fn, scope)
    return scope
  }

  private propagateBody(fn: HandlerFunction, scope: RequestScope): void {
    if (!fn.body) return
    // Two passes catch a local that is tainted by one declared after it (loops, callbacks).
    for (let pass = 0; pass < 2; pass++) {
      const visit = (node: ts.Node): void => {
        this.propagate(node, scope)
        ts.forEachChild(node, visit)
      }
      visit(fn.body)
    }
  }

  private propagate(node: ts.Node, scope: RequestScope): void {
    if (ts.isVariableDeclaration(node) && node.initializer) {
      const init = node.initializer
      const kind = requestKind(init, scope.requestNames)
      if (kind !== undefined) {
        if (ts.isObjectBindingPattern(node.name)) bindFromRequest(node.name, kind, scope)
        else if (ts.isIdentifier(node.name)) scope.requestNames.set(node.name.text, kind)
      } else this.bind(node.name, init, scope)
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isIdentifier(node.left)
    ) {
      this.bind(node.left, node.right, scope)
    } else if (
      (ts.isForOfStatement(node) || ts.isForInStatement(node)) &&
      ts.isVariableDeclarationList(node.initializer)
    ) {
      for (const decl of node.initializer.declarations) this.bind(decl.name, node.expression, scope)
    }
  }

  // The names take the labels of the value, in each form.
  private bind(name: ts.BindingName, value: ts.Expression, scope: RequestScope): void {
    const raw = this.tainted(value, scope, 0, 'raw')
    if (raw !== 0) bindAll(name, scope.tainted, raw)
    const json = this.tainted(value, scope, 0, 'json')
    if (json !== 0) bindAll(name, scope.serialized, json)
  }

  private tainted(expr: ts.Expression, scope: RequestScope, depth: number, form: Form): number {
    if (depth > 12) return 0
    const label = (e: ts.Expression, as: Form): number => this.tainted(e, scope, depth + 1, as)
    const next = (e: ts.Expression): number => label(e, form)
    const locals = form === 'raw' ? scope.tainted : scope.serialized
    if (ts.isIdentifier(expr)) return locals.get(expr.text) ?? 0
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
      const source = form === 'raw' && isRequestSource(expr, scope.requestNames)
      return (source ? REQUEST : 0) | next(expr.expression)
    }
    if (ts.isTemplateExpression(expr)) return union(expr.templateSpans, (s) => next(s.expression))
    if (ts.isBinaryExpression(expr)) return next(expr.left) | next(expr.right)
    if (ts.isConditionalExpression(expr)) return next(expr.whenTrue) | next(expr.whenFalse)
    if (ts.isArrayLiteralExpression(expr)) return union(expr.elements, next)
    if (ts.isObjectLiteralExpression(expr)) {
      return union(expr.properties, (p) => {
        if (ts.isPropertyAssignment(p)) return next(p.initializer)
        if (ts.isSpreadAssignment(p)) return next(p.expression)
        if (ts.isShorthandPropertyAssignment(p)) return locals.get(p.name.text) ?? 0
        return 0
      })
    }
    if (ts.isCallExpression(expr)) return this.taintedCall(expr, scope, form, label)
    return 0
  }

  private taintedCall(
    call: ts.CallExpression,
    scope: RequestScope,
    form: Form,
    label: (e: ts.Expression, as: Form) => number,
  ): number {
    const callee = call.expression
    const next = (e: ts.Expression): number => label(e, form)
    let mask = 0
    if (isRequestGetter(callee, scope.requestNames)) return form === 'raw' ? REQUEST : 0
    // x.trim(), x.toString(), x.split(','): a method of request data returns request data.
    if (ts.isPropertyAccessExpression(callee)) mask = next(callee.expression)
    const name = qualifiedName(callee, this.bindings)
    const [first] = call.arguments
    // JSON.stringify quotes its value into a JSON text, which JSON.parse turns back.
    const both = (e: ts.Expression) => label(e, 'raw') | label(e, 'json')
    if (name === 'JSON.stringify') return mask | (form === 'json' && first ? both(first) : 0)
    if (name === 'JSON.parse') return mask | (form === 'raw' ? union(call.arguments, both) : 0)
    if (name !== undefined && PASS_THROUGH.has(name)) mask |= union(call.arguments, next)
    return mask
  }
}

function union<T>(items: readonly T[], label: (item: T) => number): number {
  let mask = 0
  for (const item of items) mask |= label(item)
  return mask
}

function addLabel(into: Map<string, number>, name: string, mask: number): void {
  into.set(name, (into.get(name) ?? 0) | mask)
}

function isBodyAccess(node: ts.Node, requestNames: RequestNames): boolean {
  const express = (e: ts.Expression) => ts.isIdentifier(e) && requestNames.get(e.text) === 'express'
  if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
    return memberKey(node) === 'body' && express(node.expression)
  }
  if (ts.isVariableDeclaration(node) && node.initializer && ts.isObjectBindingPattern(node.name)) {
    return express(node.initializer) && node.name.elements.some((e) => bindingKey(e) === 'body')
  }
  if (ts.isParameter(node) && ts.isObjectBindingPattern(node.name) && !isKoaContext(node)) {
    return node.name.elements.some((e) => bindingKey(e) === 'body')
  }
  return false
}

// `const { body, query: q } = req`: body and q hold request data; other keys do not.
function bindFromRequest(
  pattern: ts.ObjectBindingPattern,
  kind: RequestKind,
  scope: RequestScope,
): void {
  destructureRequest(
    pattern,
    kind,
    (name) => bindAll(name, scope.tainted, REQUEST),
    (name, named) => scope.requestNames.set(name, named),
  )
}

function bindAll(name: ts.BindingName, into: Map<string, number>, mask: number): void {
  if (ts.isIdentifier(name)) {
    addLabel(into, name.text, mask)
    return
  }
  for (const element of name.elements) {
    if (ts.isBindingElement(element)) bindAll(element.name, into, mask)
  }
}
