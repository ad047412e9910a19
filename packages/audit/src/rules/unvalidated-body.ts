import ts from 'typescript'
import type { FileContext } from '../context.js'
import { BODY_METHODS, isFunctionLike, routeMethod } from '../express.js'
import type { Rule } from '../types.js'
import { isValidatingCall, isValidatorMiddleware, mountsGlobalValidator } from '../validators.js'

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
      const handler = resolveHandler(args[index], file)
      if (!handler?.body) continue
      const read = firstBodyRead(handler, file)
      if (read === undefined) continue
      const guarded = args.slice(0, index).some((arg) => isValidatorMiddleware(arg, file.bindings))
      if (guarded || validatesItself(handler, file)) return undefined
      return { node: read, message: `${method} handler reads req.body, which nothing validated` }
    }
    return undefined
  },
  // A validator mounted for every route in one file covers the routes of the others.
  holds: (project) => !project.hasGlobalValidator,
}

type Handler = ts.ArrowFunction | ts.FunctionExpression | ts.FunctionDeclaration

function mountsValidator(file: FileContext): boolean {
  let mounts = fileMountsValidator.get(file.sourceFile)
  if (mounts === undefined) {
    mounts = mountsGlobalValidator(file.sourceFile, file.bindings)
    fileMountsValidator.set(file.sourceFile, mounts)
  }
  return mounts
}

// An inline function, or a function declared in this file and named in the route.
function resolveHandler(arg: ts.Expression | undefined, file: FileContext): Handler | undefined {
  if (!arg) return undefined
  if (isFunctionLike(arg)) return arg
  if (!ts.isIdentifier(arg)) return undefined
  for (const fn of file.taint.handlers()) {
    if (ts.isFunctionDeclaration(fn) && fn.name?.text === arg.text) return fn
    if (
      isFunctionLike(fn) &&
      ts.isVariableDeclaration(fn.parent) &&
      fn.parent.name.getText() === arg.text
    ) {
      return fn
    }
  }
  return undefined
}

function firstBodyRead(handler: Handler, file: FileContext): ts.Node | undefined {
  for (const param of handler.parameters) {
    if (file.taint.readsBody(param, handler)) return param
  }
  const visit = (node: ts.Node): ts.Node | undefined =>
    file.taint.readsBody(node, handler) ? node : ts.forEachChild(node, visit)
  return handler.body ? visit(handler.body) : undefined
}

// schema.parse(req.body), validate(body), validationResult(req): the handler checks it.
function validatesItself(handler: Handler, file: FileContext): boolean {
  const visit = (node: ts.Node): boolean => {
    if (ts.isCallExpression(node) && isValidatingCall(node)) {
      const checksRequest = node.arguments.some(
        (arg) => file.isRequestData(arg) || (ts.isIdentifier(arg) && isRequestName(arg, handler)),
      )
      if (checksRequest) return true
    }
    return ts.forEachChild(node, visit) ?? false
  }
  return handler.body ? visit(handler.body) : false
}

function isRequestName(id: ts.Identifier, handler: Handler): boolean {
  return handler.parameters.some((p) => ts.isIdentifier(p.name) && p.name.text === id.text)
}
