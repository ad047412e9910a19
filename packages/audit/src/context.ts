import ts from 'typescript'
import { type Bindings, collectBindings, qualifiedName, unwrap } from './bindings.js'
import type { HandlerFunction } from './express.js'
import type { FileFlow } from './flow.js'
import { type FunctionIndex, indexFunctions, thisOwner } from './functions.js'
import type { FunctionRef, ModuleResolver } from './modules.js'
import { RequestTaint } from './taint.js'

/** Facts about the whole scanned project that some rules need. */
export interface ProjectFacts {
  /** Installed or declared js-yaml major version, when one can be found near the files. */
  jsYamlMajor(file: string): number | undefined
  /** Installed or declared version of a package near a file, as [major, minor, patch]. */
  packageVersion(name: string, file: string): readonly number[] | undefined
  /**
   * True when some scanned file mounts a body validator with `app.use()` for every route.
   * Complete only after every file was read, so rules consult it in `holds`, not `check`.
   */
  hasGlobalValidator: boolean
  /** Resolves `./users.create`-style names to scanned files. */
  modules?: ModuleResolver
}

/** Everything a rule may ask about the file it is looking at. */
export interface FileContext {
  path: string
  sourceFile: ts.SourceFile
  bindings: Bindings
  taint: RequestTaint
  project: ProjectFacts
  functions: FunctionIndex
  /** Where this file records what other files may need (routes, calls, handlers). */
  flow?: FileFlow
  /** The qualified name of a call's or `new`'s callee, e.g. `child_process.exec`. */
  calleeName(call: ts.CallExpression | ts.NewExpression): string | undefined
  /** True when the expression is request data of an enclosing handler. */
  isRequestData(expr: ts.Expression): boolean
  /** True when the expression holds request data serialized by JSON.stringify (taint.ts). */
  isRequestJson(expr: ts.Expression): boolean
  /** The function an expression names: in this file, or exported by a scanned local module. */
  resolveFunction(expr: ts.Expression): FunctionRef | undefined
  /** The nearest enclosing function that has a local path, with that path. */
  enclosingFunction(node: ts.Node): { fn: HandlerFunction; path: string } | undefined
}

/**
 * Expressions a rule asked about that were not request data, while `probe` is set: the
 * engine then asks whether they come from a parameter (see analyze.ts).
 */
export interface Probe {
  asked: ts.Expression[] | undefined
}

/** Builds the per-file context: module bindings and request-data tracking. */
export function createFileContext(
  path: string,
  sourceFile: ts.SourceFile,
  project: ProjectFacts,
  probe?: Probe,
): FileContext {
  const functions = indexFunctions(sourceFile)
  const bindings = collectBindings(sourceFile, functions.declared)
  const taint = new RequestTaint(sourceFile, bindings)
  // Every rule asks for the callee of every call; resolve each one once.
  const callees = new Map<ts.Node, string | undefined>()
  const calleeName = (call: ts.CallExpression | ts.NewExpression) => {
    if (!callees.has(call)) callees.set(call, qualifiedName(call.expression, bindings))
    return callees.get(call)
  }
  return {
    path,
    sourceFile,
    bindings,
    taint,
    project,
    functions,
    calleeName,
    isRequestData: (expr) => {
      const found = taint.isRequestData(expr)
      if (!found && probe?.asked) probe.asked.push(expr)
      return found
    },
    isRequestJson: (expr) => {
      const found = taint.isRequestJson(expr)
      if (!found && probe?.asked) probe.asked.push(expr)
      return found
    },
    resolveFunction: (expr) => resolveFunction(expr, path, bindings, functions, project.modules),
    enclosingFunction: (node) => {
      for (let current = node.parent; current; current = current.parent) {
        const found = functions.pathOf.get(current)
        if (found !== undefined) return { fn: current as HandlerFunction, path: found }
      }
      return undefined
    },
  }
}

function resolveFunction(
  expr: ts.Expression,
  file: string,
  bindings: Bindings,
  functions: FunctionIndex,
  modules: ModuleResolver | undefined,
): FunctionRef | undefined {
  const inner = unwrap(expr)
  // this.create(...) inside class Users or function Users: Users.create.
  if (ts.isPropertyAccessExpression(inner) && inner.expression.kind === ts.SyntaxKind.ThisKeyword) {
    const owner = thisOwner(inner, functions)
    const path = owner === undefined ? undefined : `${owner}.${inner.name.text}`
    return path !== undefined && functions.byPath.has(path)
      ? { file, path, exported: false }
      : undefined
  }
  const name = qualifiedName(inner, bindings)
  if (name === undefined) return undefined
  if (functions.byPath.has(name)) return { file, path: name, exported: false }
  if (!name.startsWith('.') || !modules) return undefined
  const target = modules.resolve(file, name)
  return target && { file: target.file, path: target.exportPath, exported: true }
}

/**
 * True for a value fixed in the source: a string, number or template without substitutions,
 * or `+` and `?:` over such values. Such code was written by the developer, not chosen by data.
 */
export function isStaticValue(expr: ts.Expression): boolean {
  const inner = unwrap(expr)
  if (
    ts.isStringLiteral(inner) ||
    ts.isNoSubstitutionTemplateLiteral(inner) ||
    ts.isNumericLiteral(inner)
  ) {
    return true
  }
  if (ts.isBinaryExpression(inner) && inner.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    return isStaticValue(inner.left) && isStaticValue(inner.right)
  }
  if (ts.isConditionalExpression(inner)) {
    return isStaticValue(inner.whenTrue) && isStaticValue(inner.whenFalse)
  }
  return false
}

/** True for an expression that is certainly a string: literal, template or string `+`. */
export function isStringExpression(expr: ts.Expression): boolean {
  const inner = unwrap(expr)
  if (ts.isStringLiteralLike(inner) || ts.isTemplateExpression(inner)) return true
  return (
    ts.isBinaryExpression(inner) &&
    inner.operatorToken.kind === ts.SyntaxKind.PlusToken &&
    (isStringExpression(inner.left) || isStringExpression(inner.right))
  )
}
