import ts from 'typescript'
import type { FileContext } from '../context.js'
import { BODY_METHODS, type HandlerFunction, isFunctionLike, routeMethod } from '../express.js'
import { bodyUse, returnedHandler } from '../handlers.js'
import type { FunctionRef } from '../modules.js'
import type { Rule } from '../types.js'
import { isValidatorMiddleware, mountsGlobalValidator } from '../validators.js'

const fileMountsValidator = new WeakMap<ts.SourceFile, boolean>()

/** Express routes whose handler reads req.body with no validation on the way. */
export const unvalidatedBody: Rule = {
  id: 'unvalidated-body',
  severity: 'medium',
  title: 'A route handler reads req.body that nothing validated',
  description:
    'A POST/PUT/PATCH/DELETE handler reads req.body, but no validation middleware (safeBody, ' +
    'express-validator, celebrate, a validate*/schema middleware) is in the route, mounted with ' +
    'app.use()/router.use() in the file or anywhere in the scanned project, and the handler does ' +
    'not validate the body itself (schema.parse(req.body), validate(req.body)). Whatever shape ' +
    'the client sent reaches the code.',
  fix:
    'Bind a schema to the route before the handler: app.use(safeBody({ schemas, routes: ' +
    "{ 'POST /x': 'x' } })) (import { safeBody } from 'safebody'), or use another validator.",
  bad: "app.post('/users', (req, res) => {\n  db.users.insert(req.body)\n})",
  good:
    "app.use(safeBody({ schemas: './schemas', routes: { 'POST /users': 'user' } }))\n" +
    "app.post('/users', (req, res) => {\n  db.users.insert(req.body)\n})",
  check(node, file) {
    if (!ts.isCallExpression(node)) return undefined
    const method = routeMethod(node)
    if (method === undefined || !BODY_METHODS.has(method)) return undefined
    if (mountsValidator(file)) return undefined
    const args = node.arguments
    for (let index = 0; index < args.length; index++) {
      const guarded = args
        .slice(0, index)
        .some((arg) => isValidatorMiddleware(arg, file.bindings, file.sourceFile))
      const target = routeTarget(args[index], file)
      if (!target) continue
      if ('ref' in target) {
        // A handler in another file: that file says how it uses req.body (flow.ts).
        file.flow?.route({ to: target.ref, method, guarded, factory: target.factory })
        continue
      }
      const use = bodyUse(target.fn, file.taint)
      if (use.read === undefined) continue
      if (guarded || use.validates) return undefined
      return {
        node: use.read,
        message: `${method} handler reads req.body, which nothing validated`,
      }
    }
    return undefined
  },
  // A validator mounted for every route in one file covers the routes of the others.
  holds: (project) => !project.hasGlobalValidator,
}

function mountsValidator(file: FileContext): boolean {
  let mounts = fileMountsValidator.get(file.sourceFile)
  if (mounts === undefined) {
    mounts = mountsGlobalValidator(file.sourceFile, file.bindings)
    fileMountsValidator.set(file.sourceFile, mounts)
  }
  return mounts
}

type RouteTarget = { fn: HandlerFunction } | { ref: FunctionRef; factory: boolean }

/**
 * The handler a route argument stands for: an inline function, a function of this file (by
 * name, `controller.create`, `this.create`, or the function a factory call returns), or a
 * function exported by another scanned file. Wrappers such as `asyncHandler(fn)` are seen
 * through.
 */
function routeTarget(arg: ts.Expression | undefined, file: FileContext): RouteTarget | undefined {
  if (!arg) return undefined
  if (isFunctionLike(arg)) return { fn: arg }
  if (ts.isCallExpression(arg)) {
    const [only] = arg.arguments
    const wrapped = arg.arguments.length === 1 && only && routeTarget(only, file)
    if (wrapped) return wrapped
    const factory = file.resolveFunction(arg.expression)
    if (!factory) return undefined
    if (factory.exported) return { ref: factory, factory: true }
    const fn = file.functions.byPath.get(factory.path)
    const returned = fn && returnedHandler(fn)
    return returned ? { fn: returned } : undefined
  }
  const ref = file.resolveFunction(arg)
  if (ref?.exported) return { ref, factory: false }
  const fn = ref && file.functions.byPath.get(ref.path)
  if (fn) return { fn }
  return ts.isIdentifier(arg) ? nestedHandler(arg, file) : undefined
}

// A handler declared inside another function and named by the route.
function nestedHandler(arg: ts.Identifier, file: FileContext): RouteTarget | undefined {
  for (const fn of file.taint.handlers()) {
    if (ts.isFunctionDeclaration(fn) && fn.name?.text === arg.text) return { fn }
    if (
      isFunctionLike(fn) &&
      ts.isVariableDeclaration(fn.parent) &&
      fn.parent.name.getText() === arg.text
    ) {
      return { fn }
    }
  }
  return undefined
}
