import ts from 'typescript'
import { type HandlerFunction, isFunctionLike } from './express.js'

/**
 * The named functions of one file and what it exports, so a reference from another file
 * (`handlers.update`, `new Users(db).create`, `import { create } from './users'`) can be
 * followed to a function. A local path names a function inside the file: `ping`,
 * `Users.create` (a class method, or `this.create = ...` in a constructor function),
 * `api.update` (a member of an object literal), `module.exports.search`.
 */
export interface FunctionIndex {
  byPath: Map<string, HandlerFunction>
  pathOf: Map<ts.Node, string>
  /** Export path ('' for the module itself, `module.exports` or `export default`) -> local path. */
  exports: Map<string, string>
  /** Top-level function and class names: `new Name()` gives an instance with Name's members. */
  declared: Set<string>
}

/** Indexes the top-level functions, classes, object literals and exports of a file. */
export function indexFunctions(sourceFile: ts.SourceFile): FunctionIndex {
  const index: FunctionIndex = {
    byPath: new Map(),
    pathOf: new Map(),
    exports: new Map(),
    declared: new Set(),
  }
  for (const statement of sourceFile.statements) indexStatement(statement, index)
  return index
}

/** The local path an export path leads to, by its longest exported prefix. */
export function exportedLocalPath(
  exports: ReadonlyMap<string, string>,
  exportPath: string,
): string | undefined {
  const parts = exportPath === '' ? [] : exportPath.split('.')
  if (parts[0] === 'default') parts.shift()
  for (let length = parts.length; length >= 0; length--) {
    const local = exports.get(parts.slice(0, length).join('.'))
    if (local !== undefined) return [local, ...parts.slice(length)].filter(Boolean).join('.')
  }
  return undefined
}

/**
 * The local path `this` stands for at `node`: the enclosing class, or the constructor
 * function whose members are assigned to `this`.
 */
export function thisOwner(node: ts.Node, index: FunctionIndex): string | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (ts.isClassDeclaration(current) || ts.isClassExpression(current)) {
      return current.name?.text
    }
    if (ts.isArrowFunction(current)) continue
    if (ts.isFunctionLike(current)) {
      const path = index.pathOf.get(current)
      if (path === undefined) return undefined
      const dot = path.lastIndexOf('.')
      return ts.isFunctionDeclaration(current) || dot === -1 ? path : path.slice(0, dot)
    }
  }
  return undefined
}

function add(index: FunctionIndex, path: string, fn: HandlerFunction): void {
  if (index.byPath.has(path)) return
  index.byPath.set(path, fn)
  index.pathOf.set(fn, path)
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node)?.some((m) => m.kind === kind) ?? false)
}

function exportName(node: ts.Node, name: string): string | undefined {
  if (!hasModifier(node, ts.SyntaxKind.ExportKeyword)) return undefined
  return hasModifier(node, ts.SyntaxKind.DefaultKeyword) ? '' : name
}

function indexStatement(statement: ts.Statement, index: FunctionIndex): void {
  if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) {
    const name = statement.name?.text ?? 'default'
    index.declared.add(name)
    if (ts.isFunctionDeclaration(statement)) indexFunction(name, statement, index)
    else indexClass(name, statement, index)
    const exported = exportName(statement, name)
    if (exported !== undefined) index.exports.set(exported, name)
  } else if (ts.isVariableStatement(statement)) {
    for (const decl of statement.declarationList.declarations) {
      if (!ts.isIdentifier(decl.name) || !decl.initializer) continue
      const name = decl.name.text
      indexValue(name, decl.initializer, index)
      if (exportName(statement, name) !== undefined) index.exports.set(name, name)
    }
  } else if (ts.isExpressionStatement(statement)) {
    indexAssignment(statement.expression, index)
  } else if (ts.isExportAssignment(statement)) {
    exportValue('', statement.expression, index)
  } else if (
    ts.isExportDeclaration(statement) &&
    !statement.moduleSpecifier &&
    statement.exportClause &&
    ts.isNamedExports(statement.exportClause)
  ) {
    for (const element of statement.exportClause.elements) {
      const exported = element.name.text === 'default' ? '' : element.name.text
      index.exports.set(exported, (element.propertyName ?? element.name).text)
    }
  }
}

// `name = <value>`: a function, a class, or an object literal of functions.
function indexValue(name: string, value: ts.Expression, index: FunctionIndex): void {
  const inner = skipParentheses(value)
  if (isFunctionLike(inner)) {
    if (ts.isFunctionExpression(inner)) index.declared.add(name)
    indexFunction(name, inner, index)
  } else if (ts.isClassExpression(inner)) {
    index.declared.add(name)
    indexClass(name, inner, index)
  } else if (ts.isObjectLiteralExpression(inner)) {
    indexObject(name, inner, index)
  }
}

/** `this.name = value`: the member's name and value, else undefined. */
function thisAssignment(node: ts.Node): { name: string; value: ts.Expression } | undefined {
  if (
    ts.isBinaryExpression(node) &&
    node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
    ts.isPropertyAccessExpression(node.left) &&
    node.left.expression.kind === ts.SyntaxKind.ThisKeyword
  ) {
    return { name: node.left.name.text, value: node.right }
  }
  return undefined
}

function indexFunction(path: string, fn: HandlerFunction, index: FunctionIndex): void {
  add(index, path, fn)
  if (ts.isArrowFunction(fn) || !fn.body) return
  // `function Users(db) { this.create = (req, res) => {...} }`: members of the instance.
  const visit = (node: ts.Node): void => {
    const member = thisAssignment(node)
    if (member) indexValue(`${path}.${member.name}`, member.value, index)
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node)) return
    if (ts.isClassLike(node)) return
    ts.forEachChild(node, visit)
  }
  ts.forEachChild(fn.body, visit)
}

function indexClass(name: string, cls: ts.ClassLikeDeclaration, index: FunctionIndex): void {
  for (const member of cls.members) {
    if (ts.isMethodDeclaration(member) && ts.isIdentifier(member.name)) {
      add(index, `${name}.${member.name.text}`, member)
    } else if (
      ts.isPropertyDeclaration(member) &&
      ts.isIdentifier(member.name) &&
      member.initializer
    ) {
      indexValue(`${name}.${member.name.text}`, member.initializer, index)
    } else if (ts.isConstructorDeclaration(member) && member.body) {
      for (const statement of member.body.statements) {
        if (!ts.isExpressionStatement(statement)) continue
        const assigned = thisAssignment(statement.expression)
        if (assigned) indexValue(`${name}.${assigned.name}`, assigned.value, index)
      }
    }
  }
}

function indexObject(path: string, object: ts.ObjectLiteralExpression, index: FunctionIndex): void {
  for (const prop of object.properties) {
    const key = prop.name && propertyKey(prop.name)
    if (key === undefined) continue
    if (ts.isMethodDeclaration(prop)) add(index, `${path}.${key}`, prop)
    else if (ts.isPropertyAssignment(prop)) indexValue(`${path}.${key}`, prop.initializer, index)
  }
}

// module.exports = ..., exports.x = ..., Users.prototype.create = ..., api.update = ...
function indexAssignment(expr: ts.Expression, index: FunctionIndex): void {
  if (!ts.isBinaryExpression(expr) || expr.operatorToken.kind !== ts.SyntaxKind.EqualsToken) return
  const target = memberChain(expr.left)
  if (!target) return
  const [root, ...members] = target
  if (root === 'module' && members[0] === 'exports') {
    exportValue(members.slice(1).join('.'), expr.right, index)
  } else if (root === 'exports') {
    exportValue(members.join('.'), expr.right, index)
  } else if (members.length > 0) {
    const path = [root, ...members.filter((m) => m !== 'prototype')].join('.')
    indexValue(path, expr.right, index)
  }
}

function exportValue(exportPath: string, value: ts.Expression, index: FunctionIndex): void {
  const inner = skipParentheses(value)
  if (ts.isIdentifier(inner)) {
    index.exports.set(exportPath, inner.text)
  } else if (ts.isNewExpression(inner) && ts.isIdentifier(inner.expression)) {
    index.exports.set(exportPath, inner.expression.text)
  } else if (ts.isObjectLiteralExpression(inner)) {
    for (const prop of inner.properties) {
      const key = prop.name && propertyKey(prop.name)
      if (key === undefined) continue
      const path = exportPath === '' ? key : `${exportPath}.${key}`
      if (ts.isShorthandPropertyAssignment(prop)) index.exports.set(path, key)
      else if (ts.isPropertyAssignment(prop)) exportValue(path, prop.initializer, index)
      else if (ts.isMethodDeclaration(prop)) {
        add(index, localExport(path), prop)
        index.exports.set(path, localExport(path))
      }
    }
  } else if (isFunctionLike(inner) || ts.isClassExpression(inner)) {
    const local = localExport(exportPath)
    indexValue(local, inner, index)
    index.exports.set(exportPath, local)
  }
}

function localExport(exportPath: string): string {
  return exportPath === '' ? 'module.exports' : `module.exports.${exportPath}`
}

/** `a.b.c` -> ['a', 'b', 'c'] for identifiers and property reads, else undefined. */
function memberChain(expr: ts.Expression): string[] | undefined {
  if (ts.isIdentifier(expr)) return [expr.text]
  if (ts.isPropertyAccessExpression(expr)) {
    const base = memberChain(expr.expression)
    return base && [...base, expr.name.text]
  }
  return undefined
}

function propertyKey(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined
}

function skipParentheses(expr: ts.Expression): ts.Expression {
  let current = expr
  while (ts.isParenthesizedExpression(current)) current = current.expression
  return current
}
