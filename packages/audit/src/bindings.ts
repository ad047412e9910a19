import ts from 'typescript'

/**
 * Module bindings of one file: local name -> qualified name such as `child_process.exec`,
 * `js-yaml` or `lodash.merge`. Scope-insensitive on purpose: shadowing a module import
 * with an unrelated local of the same name is rare, and missing an alias is worse.
 */
export type Bindings = Map<string, string>

/** Module names compare without the `node:` scheme, so `node:vm` and `vm` are one module. */
function moduleName(specifier: string): string {
  return specifier.startsWith('node:') ? specifier.slice(5) : specifier
}

/** `require('m')` or `import('m')` -> `m`, else undefined. */
function requiredModule(node: ts.Node): string | undefined {
  if (!ts.isCallExpression(node) || node.arguments.length !== 1) return undefined
  const callee = node.expression
  const isRequire = ts.isIdentifier(callee) && callee.text === 'require'
  if (!isRequire && callee.kind !== ts.SyntaxKind.ImportKeyword) return undefined
  const arg = node.arguments[0]
  return arg && ts.isStringLiteralLike(arg) ? moduleName(arg.text) : undefined
}

const GLOBAL_RECEIVERS = new Set(['globalThis', 'global', 'window', 'self'])
const PROMISIFY = new Set(['util.promisify', 'promisify'])

/**
 * The qualified name an expression refers to: an import or require alias, a member of one,
 * or a global (`eval`, `Object.assign`). Undefined when it is computed some other way.
 */
export function qualifiedName(expr: ts.Expression, bindings: Bindings): string | undefined {
  const inner = unwrap(expr)
  if (ts.isIdentifier(inner)) return bindings.get(inner.text) ?? inner.text
  if (ts.isPropertyAccessExpression(inner)) {
    const receiver = unwrap(inner.expression)
    if (ts.isIdentifier(receiver) && GLOBAL_RECEIVERS.has(receiver.text)) return inner.name.text
    const base = qualifiedName(receiver, bindings)
    return base === undefined ? undefined : `${base}.${inner.name.text}`
  }
  if (ts.isElementAccessExpression(inner) && ts.isStringLiteralLike(inner.argumentExpression)) {
    const base = qualifiedName(inner.expression, bindings)
    return base === undefined ? undefined : `${base}.${inner.argumentExpression.text}`
  }
  const required = requiredModule(inner)
  if (required !== undefined) return required
  // util.promisify(exec) keeps exec's danger, so it keeps exec's name.
  if (ts.isCallExpression(inner) && inner.arguments.length === 1 && inner.arguments[0]) {
    const callee = qualifiedName(inner.expression, bindings)
    if (callee !== undefined && PROMISIFY.has(callee)) {
      return qualifiedName(inner.arguments[0], bindings)
    }
  }
  return undefined
}

/** Strips parentheses, type assertions, `!` and the `(0, fn)` indirect-call idiom. */
export function unwrap(expr: ts.Expression): ts.Expression {
  let current = expr
  for (;;) {
    if (
      ts.isParenthesizedExpression(current) ||
      ts.isAsExpression(current) ||
      ts.isNonNullExpression(current) ||
      ts.isSatisfiesExpression(current) ||
      ts.isTypeAssertionExpression(current) ||
      ts.isAwaitExpression(current)
    ) {
      current = current.expression
    } else if (
      ts.isBinaryExpression(current) &&
      current.operatorToken.kind === ts.SyntaxKind.CommaToken
    ) {
      current = current.right
    } else {
      return current
    }
  }
}

/**
 * Collects every import, require and `const x = alias.member` binding of a file, and
 * `const x = new Name()` when Name is imported or declared in the file (`declared`): the
 * instance is named after its class, so `x.run` is `vm2.VM.run` or `Users.create`.
 */
export function collectBindings(
  sourceFile: ts.SourceFile,
  declared: ReadonlySet<string> = new Set(),
): Bindings {
  const bindings: Bindings = new Map()
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      bindImport(node, moduleName(node.moduleSpecifier.text), bindings)
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      bindings.set(node.name.text, moduleName(node.moduleReference.expression.text))
    } else if (ts.isVariableDeclaration(node) && node.initializer) {
      const instance = instanceOf(node.initializer, bindings, declared)
      const target = instance ?? qualifiedName(node.initializer, bindings)
      if (
        target !== undefined &&
        (instance !== undefined || isAliasInitializer(node.initializer))
      ) {
        bindPattern(node.name, target, bindings)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(sourceFile)
  return bindings
}

// `new VM()` from vm2, `new Users(db)` declared in the file: the class's qualified name.
function instanceOf(
  init: ts.Expression,
  bindings: Bindings,
  declared: ReadonlySet<string>,
): string | undefined {
  const inner = unwrap(init)
  if (!ts.isNewExpression(inner)) return undefined
  let root: ts.Expression = inner.expression
  while (ts.isPropertyAccessExpression(root)) root = root.expression
  if (!ts.isIdentifier(root)) return undefined
  if (declared.has(root.text)) return qualifiedName(inner.expression, bindings)
  if (!bindings.has(root.text)) return undefined
  // A member of a module (`vm2.VM`, `./users.Users`), not a global kept under another name:
  // `const F = Function; const f = new F(code)` must not make every `f()` a Function() call.
  const name = qualifiedName(inner.expression, bindings)
  return name?.includes('.') ? name : undefined
}

// Only initialisers that name something (not `const n = foo()`), so locals keep their names.
function isAliasInitializer(init: ts.Expression): boolean {
  const inner = unwrap(init)
  return (
    ts.isPropertyAccessExpression(inner) ||
    ts.isElementAccessExpression(inner) ||
    requiredModule(inner) !== undefined ||
    (ts.isCallExpression(inner) && inner.arguments.length === 1) ||
    ts.isIdentifier(inner)
  )
}

function bindImport(node: ts.ImportDeclaration, module: string, bindings: Bindings): void {
  const clause = node.importClause
  if (!clause) return
  if (clause.name) bindings.set(clause.name.text, module)
  const named = clause.namedBindings
  if (!named) return
  if (ts.isNamespaceImport(named)) {
    bindings.set(named.name.text, module)
    return
  }
  for (const element of named.elements) {
    const imported = (element.propertyName ?? element.name).text
    bindings.set(element.name.text, imported === 'default' ? module : `${module}.${imported}`)
  }
}

function bindPattern(name: ts.BindingName, target: string, bindings: Bindings): void {
  if (ts.isIdentifier(name)) {
    // A local that merely copies another local (`const a = b`) is not worth an entry.
    if (name.text !== target) bindings.set(name.text, target)
    return
  }
  if (!ts.isObjectBindingPattern(name)) return
  for (const element of name.elements) {
    const key = element.propertyName ?? element.name
    if (!ts.isIdentifier(key) && !ts.isStringLiteral(key)) continue
    const member = key.text === 'default' ? target : `${target}.${key.text}`
    bindPattern(element.name, member, bindings)
  }
}
