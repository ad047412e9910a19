import ts from 'typescript'
import { type HandlerFunction, isFunctionLike } from './express.js'
import type { RequestTaint } from './taint.js'
import { isValidatingCall } from './validators.js'

/** What `unvalidated-body` needs to know about a handler, wherever the route is. */
export interface BodyUse {
  /** The first place the handler reads req.body, or undefined when it never does. */
  read: ts.Node | undefined
  /** The handler validates the body itself: schema.parse(req.body), validate(body). */
  validates: boolean
}

/** How a handler uses req.body. */
export function bodyUse(handler: HandlerFunction, taint: RequestTaint): BodyUse {
  const read = firstBodyRead(handler, taint)
  return { read, validates: read !== undefined && validatesItself(handler, taint) }
}

/**
 * The handler a factory returns: `export function b2bOrder () { return (req, res) => {...} }`
 * mounted as `app.post('/b2b', b2bOrder())`.
 */
export function returnedHandler(factory: HandlerFunction): HandlerFunction | undefined {
  const body = factory.body
  if (!body) return undefined
  if (!ts.isBlock(body)) return isFunctionLike(body) ? body : undefined
  const visit = (node: ts.Node): HandlerFunction | undefined => {
    if (ts.isReturnStatement(node) && node.expression && isFunctionLike(node.expression)) {
      return node.expression
    }
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return undefined
    return ts.forEachChild(node, visit)
  }
  return visit(body)
}

function firstBodyRead(handler: HandlerFunction, taint: RequestTaint): ts.Node | undefined {
  for (const param of handler.parameters) {
    if (taint.readsBody(param, handler)) return param
  }
  const visit = (node: ts.Node): ts.Node | undefined =>
    taint.readsBody(node, handler) && !isWrite(node) ? node : ts.forEachChild(node, visit)
  return handler.body ? visit(handler.body) : undefined
}

// `req.body.userId = session.id`: middleware that adds to the body does not read it.
function isWrite(node: ts.Node): boolean {
  const member = node.parent
  const assignment = member?.parent
  return (
    member !== undefined &&
    (ts.isPropertyAccessExpression(member) || ts.isElementAccessExpression(member)) &&
    member.expression === node &&
    assignment !== undefined &&
    ts.isBinaryExpression(assignment) &&
    assignment.left === member &&
    assignment.operatorToken.kind === ts.SyntaxKind.EqualsToken
  )
}

// A call given the whole request validates the body only if its name says so:
// validationResult(req), validateRequest(req); check_logged(req, res) checks a session.
const VALIDATES_REQUEST = /valid|schema|sanitiz/i

// schema.parse(req.body), validate(body), validationResult(req): the handler checks it.
function validatesItself(handler: HandlerFunction, taint: RequestTaint): boolean {
  const visit = (node: ts.Node): boolean => {
    if (ts.isCallExpression(node) && isValidatingCall(node)) {
      const byName = VALIDATES_REQUEST.test(node.expression.getText())
      const checksRequest = node.arguments.some(
        (arg) =>
          taint.isRequestData(arg) ||
          (byName && ts.isIdentifier(arg) && isRequestName(arg, handler)),
      )
      if (checksRequest) return true
    }
    return ts.forEachChild(node, visit) ?? false
  }
  return handler.body ? visit(handler.body) : false
}

function isRequestName(id: ts.Identifier, handler: HandlerFunction): boolean {
  return handler.parameters.some((p) => ts.isIdentifier(p.name) && p.name.text === id.text)
}
