import ts from 'typescript'
import { type Bindings, qualifiedName } from './bindings.js'

/**
 * Where request data comes from in each framework's handlers: an Express-style request
 * (`req.body`), a Koa context (`ctx.query`, `ctx.request.body`) and Koa's request
 * (`ctx.request`), a NestJS parameter decorated `@Body()`. The parts the client controls
 * differ: Koa's `ctx.body` is the response.
 */
export type RequestKind = 'express' | 'koaContext' | 'koaRequest'

/** The names a function reaches its request through, with what each one is. */
export type RequestNames = Map<string, RequestKind>

const SOURCES: Record<RequestKind, ReadonlySet<string>> = {
  express: new Set([
    'body',
    'query',
    'params',
    'headers',
    'cookies',
    'signedCookies',
    // Uploads: req.files (express-fileupload, multer's array forms) and req.file (multer).
    'files',
    'file',
  ]),
  // ctx.params (@koa/router), ctx.cookies.get(), ctx.files/ctx.file (@koa/multer).
  koaContext: new Set([
    'query',
    'params',
    'headers',
    'header',
    'querystring',
    'cookies',
    'files',
    'file',
  ]),
  // ctx.request.body and .rawBody (koa-bodyparser, koa-body), .files (koa-body, @koa/multer).
  koaRequest: new Set([
    'body',
    'rawBody',
    'query',
    'querystring',
    'headers',
    'header',
    'params',
    'files',
    'file',
  ]),
}

// req.get('x-y'), req.header('x-y'), req.param('id'), ctx.get('x-y'): client-controlled too.
const GETTERS: Record<RequestKind, ReadonlySet<string>> = {
  express: new Set(['get', 'header', 'param']),
  koaContext: new Set(['get']),
  koaRequest: new Set(['get']),
}

const KOA_CONTEXT_NAME = /^(ctx|context)$/
// Koa's Context, ParameterizedContext, RouterContext (@koa/router), Koa.Context; not
// AudioContext or CanvasRenderingContext2D.
const KOA_CONTEXT_TYPE = /\b(?:Context|ParameterizedContext|RouterContext|ExtendableContext)\b/

/**
 * True when a handler's first parameter is a Koa context: called `ctx` or `context`, typed
 * as Koa's `Context`, or destructuring `request` (`({ request, params }) =>`).
 */
export function isKoaContext(param: ts.ParameterDeclaration): boolean {
  if (ts.isIdentifier(param.name)) {
    if (KOA_CONTEXT_NAME.test(param.name.text)) return true
    return param.type !== undefined && KOA_CONTEXT_TYPE.test(param.type.getText())
  }
  return ts.isObjectBindingPattern(param.name) && param.name.elements.some(isRequestElement)
}

/**
 * True when a function, not seen passed to a route method or `use`, looks like a Koa handler
 * on its own: its context typed as Koa's, or called `ctx`/`context` (or destructuring
 * `request`) beside a `next`. `ctx` alone is too common a name to go by: a build step's
 * settings (`context.get('outDir')`), a DI container, a test fixture's `{ request }`.
 */
export function looksLikeKoaHandler(params: readonly ts.ParameterDeclaration[]): boolean {
  const [param, next] = params
  if (param === undefined) return false
  if (param.type !== undefined) {
    return ts.isIdentifier(param.name) && KOA_CONTEXT_TYPE.test(param.type.getText())
  }
  const named = next !== undefined && ts.isIdentifier(next.name) && next.name.text === 'next'
  return named && isKoaContext(param)
}

function isRequestElement(element: ts.BindingElement): boolean {
  return bindingKey(element) === 'request'
}

/**
 * What `expr` is among a function's request names: a name of them, or a Koa context's
 * `request` (`ctx.request`, `ctx['request']`). Undefined for anything else.
 */
export function requestKind(expr: ts.Expression, names: RequestNames): RequestKind | undefined {
  if (ts.isIdentifier(expr)) return names.get(expr.text)
  if (!ts.isPropertyAccessExpression(expr) && !ts.isElementAccessExpression(expr)) return undefined
  return memberKey(expr) === 'request' && requestKind(expr.expression, names) === 'koaContext'
    ? 'koaRequest'
    : undefined
}

/** `req.body`, `req.query.x`, `ctx.request.body`, `ctx['params']`: a client-controlled part. */
export function isRequestSource(expr: ts.Expression, names: RequestNames): boolean {
  if (!ts.isPropertyAccessExpression(expr) && !ts.isElementAccessExpression(expr)) return false
  const kind = requestKind(expr.expression, names)
  const key = memberKey(expr)
  return kind !== undefined && key !== undefined && SOURCES[kind].has(key)
}

/** `req.get('x')`, `ctx.get('x')`: a call that reads a client-controlled header or parameter. */
export function isRequestGetter(callee: ts.Expression, names: RequestNames): boolean {
  if (!ts.isPropertyAccessExpression(callee)) return false
  const kind = requestKind(callee.expression, names)
  return kind !== undefined && GETTERS[kind].has(callee.name.text)
}

/**
 * Binds what a destructuring of a request takes: `const { body, query: q } = req` taints body
 * and q through `taint`; `const { request } = ctx` names Koa's request through `name`.
 */
export function destructureRequest(
  pattern: ts.ObjectBindingPattern,
  kind: RequestKind,
  taint: (name: ts.BindingName) => void,
  name: (identifier: string, kind: RequestKind) => void,
): void {
  for (const element of pattern.elements) {
    const key = bindingKey(element)
    if (key === undefined) continue
    if (SOURCES[kind].has(key)) taint(element.name)
    else if (key === 'request' && kind === 'koaContext') {
      if (ts.isIdentifier(element.name)) name(element.name.text, 'koaRequest')
      else if (ts.isObjectBindingPattern(element.name)) {
        destructureRequest(element.name, 'koaRequest', taint, name)
      }
    }
  }
}

/** The key of `x.key` or `x['key']`, else undefined. */
export function memberKey(
  expr: ts.PropertyAccessExpression | ts.ElementAccessExpression,
): string | undefined {
  if (ts.isPropertyAccessExpression(expr)) return expr.name.text
  return ts.isStringLiteralLike(expr.argumentExpression) ? expr.argumentExpression.text : undefined
}

/** The property a binding element takes: `body` in `{ body }` and in `{ body: b }`. */
export function bindingKey(element: ts.BindingElement): string | undefined {
  const key = element.propertyName ?? element.name
  return ts.isIdentifier(key) || ts.isStringLiteral(key) ? key.text : undefined
}

// NestJS parameter decorators: these hand the method request data, @Req() the request itself.
const NEST_DATA = new Set(['Body', 'Query', 'Param', 'Headers', 'UploadedFile', 'UploadedFiles'])
const NEST_REQUEST = new Set(['Req', 'Request'])
const NEST = '@nestjs/common.'
// `@Param('id', ParseIntPipe)`: a number, boolean, UUID or enum member carries no code.
const NEST_NARROWING_PIPE = /^Parse(?:Int|Float|Bool|UUID|Enum)Pipe$/

/**
 * What a NestJS controller method's parameter holds: request data (`@Body() body`,
 * `@Query('q') q`, `@Param('id') id`, `@Headers()`, `@UploadedFile()`), the request
 * (`@Req() req`), or neither. The decorator must come from `@nestjs/common`; a parameter that a
 * parse pipe narrows to a number, boolean, UUID or enum (`@Param('id', ParseIntPipe)`) holds
 * no request data.
 */
export function nestParameter(
  param: ts.ParameterDeclaration,
  bindings: Bindings,
): 'data' | 'request' | undefined {
  for (const decorator of ts.getDecorators(param) ?? []) {
    const call = decorator.expression
    if (!ts.isCallExpression(call)) continue
    const name = qualifiedName(call.expression, bindings)
    if (!name?.startsWith(NEST)) continue
    const member = name.slice(NEST.length)
    if (NEST_REQUEST.has(member)) return 'request'
    if (!NEST_DATA.has(member)) continue
    const narrowed = call.arguments.some((arg) => {
      const pipe = ts.isNewExpression(arg) ? arg.expression : arg
      const pipeName = qualifiedName(pipe, bindings)
      return pipeName?.startsWith(NEST) && NEST_NARROWING_PIPE.test(pipeName.slice(NEST.length))
    })
    return narrowed ? undefined : 'data'
  }
  return undefined
}

/** True for a NestJS controller method: a parameter of it is decorated `@Body()`, `@Req()`... */
export function isNestHandler(fn: ts.SignatureDeclarationBase, bindings: Bindings): boolean {
  return ts.isMethodDeclaration(fn) && fn.parameters.some((p) => nestDecorated(p, bindings))
}

// Decorated with one of the request decorators, narrowed by a pipe or not.
function nestDecorated(param: ts.ParameterDeclaration, bindings: Bindings): boolean {
  return (ts.getDecorators(param) ?? []).some((decorator) => {
    const call = decorator.expression
    const name = ts.isCallExpression(call) ? qualifiedName(call.expression, bindings) : undefined
    const member = name?.startsWith(NEST) ? name.slice(NEST.length) : undefined
    return member !== undefined && (NEST_DATA.has(member) || NEST_REQUEST.has(member))
  })
}
