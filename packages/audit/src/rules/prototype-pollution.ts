import ts from 'typescript'
import { unwrap } from '../bindings.js'
import type { FileContext } from '../context.js'
import type { Rule, RuleReport } from '../types.js'

// Deep merges walk every key of every source, `__proto__` and `constructor` included.
const DEEP_MERGES = new Set([
  'lodash.merge',
  'lodash.mergeWith',
  'lodash.defaultsDeep',
  'lodash/merge',
  'lodash/mergeWith',
  'lodash/defaultsDeep',
  'lodash.defaultsdeep',
  'lodash.mergewith',
  'merge-deep',
  'mixin-deep',
  'defaults-deep',
  'deep-extend',
  'merge.recursive',
  'hoek.merge',
  '@hapi/hoek.merge',
  '_.merge',
  '_.mergeWith',
  '_.defaultsDeep',
])
// jQuery-style extend is deep only when its first argument is `true`.
const DEEP_WITH_FLAG = new Set(['extend', 'jquery.extend', '$.extend', 'jQuery.extend'])
// Set-by-path: a path like `__proto__.isAdmin` writes to Object.prototype.
const SET_BY_PATH = new Set([
  'lodash.set',
  'lodash.setWith',
  'lodash.zipObjectDeep',
  'lodash/set',
  'lodash/setWith',
  '_.set',
  '_.setWith',
  'set-value',
  'dot-prop.setProperty',
  'dot-prop.set',
  'object-path.set',
  'dset',
  'dset.dset',
])

/** Deep merge, set-by-path or Object.assign of request data into existing objects. */
export const prototypePollution: Rule = {
  id: 'prototype-pollution',
  severity: 'high',
  title: 'Request data is merged or set by path into an object',
  description:
    'Deep-merge and set-by-path helpers (lodash merge/mergeWith/defaultsDeep/set/setWith, ' +
    'deep-extend, merge-deep, mixin-deep, set-value, dot-prop, object-path, jQuery extend) ' +
    'follow keys such as `__proto__` and `constructor.prototype`, so request data can change ' +
    'Object.prototype for the whole process. Object.assign of request data into an existing ' +
    'object (medium) copies `__proto__` onto it and lets the client overwrite any field; an ' +
    'object literal with fixed keys as the source (`{ title: req.params.id }`) cannot, and is ' +
    'not reported.',
  fix: 'Validate the body against a schema (safebody refuses __proto__ keys), then copy known fields.',
  bad: 'merge(user.settings, req.body)',
  good: 'const { theme, language } = req.body // after safeBody() validated it\nuser.settings = { ...user.settings, theme, language }',
  check(node, file) {
    if (!ts.isCallExpression(node)) return undefined
    const callee = file.calleeName(node)
    if (callee === undefined) return undefined
    if (DEEP_MERGES.has(callee)) return deepMerge(node, callee, node.arguments.slice(1), file)
    if (DEEP_WITH_FLAG.has(callee) && node.arguments[0]?.kind === ts.SyntaxKind.TrueKeyword) {
      return deepMerge(node, callee, node.arguments.slice(2), file)
    }
    if (SET_BY_PATH.has(callee)) return setByPath(node, callee, file)
    if (callee === 'Object.assign') return objectAssign(node, file)
    return undefined
  },
}

function deepMerge(
  call: ts.CallExpression,
  callee: string,
  sources: readonly ts.Expression[],
  file: FileContext,
): RuleReport | undefined {
  if (!sources.some((arg) => file.isRequestData(arg))) return undefined
  return { node: call, message: `${callee}() deep-merges request data` }
}

function setByPath(
  call: ts.CallExpression,
  callee: string,
  file: FileContext,
): RuleReport | undefined {
  const path = call.arguments[1]
  if (!path || !file.isRequestData(path)) return undefined
  return { node: call, message: `${callee}() sets a property at a path taken from request data` }
}

function objectAssign(call: ts.CallExpression, file: FileContext): RuleReport | undefined {
  const target = call.arguments[0]
  if (!target || isFreshObject(target)) return undefined
  if (!call.arguments.slice(1).some((arg) => copiesRequestKeys(arg, file))) return undefined
  return {
    node: call,
    message: 'Object.assign() copies request data into an existing object',
    severity: 'medium',
  }
}

// Whether an Object.assign source can put keys the request chose onto the target. An object
// literal with fixed keys cannot: `{ title: req.params.id }` writes `title`, whatever the value
// (Object.assign is shallow). Its spreads and computed keys of request data can.
function copiesRequestKeys(source: ts.Expression, file: FileContext): boolean {
  const inner = unwrap(source)
  if (!ts.isObjectLiteralExpression(inner)) return file.isRequestData(source)
  return inner.properties.some((property) => {
    if (ts.isSpreadAssignment(property)) return file.isRequestData(property.expression)
    if (!property.name || !ts.isComputedPropertyName(property.name)) return false
    return (
      file.isRequestData(property.name.expression) ||
      (ts.isPropertyAssignment(property) && file.isRequestData(property.initializer))
    )
  })
}

// `{}`, `[]`, `Object.create(null)`, `new Foo()`: nothing else refers to the target yet.
function isFreshObject(target: ts.Expression): boolean {
  const inner = unwrap(target)
  return (
    ts.isObjectLiteralExpression(inner) ||
    ts.isArrayLiteralExpression(inner) ||
    ts.isNewExpression(inner) ||
    (ts.isCallExpression(inner) && inner.expression.getText() === 'Object.create')
  )
}
