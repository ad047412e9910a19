import ts from 'typescript'
import { type Bindings, collectBindings, qualifiedName, unwrap } from './bindings.js'
import { RequestTaint } from './taint.js'

/** Facts about the whole scanned project that some rules need. */
export interface ProjectFacts {
  /** Installed or declared js-yaml major version, when one can be found near the files. */
  jsYamlMajor(file: string): number | undefined
  /**
   * True when some scanned file mounts a body validator with `app.use()` for every route.
   * Complete only after every file was read, so rules consult it in `holds`, not `check`.
   */
  hasGlobalValidator: boolean
}

/** Everything a rule may ask about the file it is looking at. */
export interface FileContext {
  path: string
  sourceFile: ts.SourceFile
  bindings: Bindings
  taint: RequestTaint
  project: ProjectFacts
  /** The qualified name of a call's or `new`'s callee, e.g. `child_process.exec`. */
  calleeName(call: ts.CallExpression | ts.NewExpression): string | undefined
  /** True when the expression is request data of an enclosing handler. */
  isRequestData(expr: ts.Expression): boolean
}

/** Builds the per-file context: module bindings and request-data tracking. */
export function createFileContext(
  path: string,
  sourceFile: ts.SourceFile,
  project: ProjectFacts,
): FileContext {
  const bindings = collectBindings(sourceFile)
  const taint = new RequestTaint(sourceFile, bindings)
  // Every rule asks for the callee of every call; resolve each one once.
  const callees = new Map<ts.Node, string | undefined>()
  return {
    path,
    sourceFile,
    bindings,
    taint,
    project,
    calleeName: (call) => {
      if (!callees.has(call)) callees.set(call, qualifiedName(call.expression, bindings))
      return callees.get(call)
    },
    isRequestData: (expr) => taint.isRequestData(expr),
  }
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
