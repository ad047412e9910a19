import ts from 'typescript'
import { unwrap } from '../bindings.js'
import { type FileContext, isStaticValue } from '../context.js'
import type { Rule } from '../types.js'

// The node:vm entry points that compile their first argument; vm is no security boundary.
const VM_COMPILERS = new Set([
  'vm.runInNewContext',
  'vm.runInThisContext',
  'vm.runInContext',
  'vm.compileFunction',
  'vm.Script',
  'vm.SourceTextModule',
])
// Entry points that also take a context object: (code, context) or, on a Script, (context).
const WITH_CONTEXT = new Set(['vm.runInNewContext', 'vm.runInContext'])
const SCRIPT_RUNNERS = new Set(['vm.Script.runInNewContext', 'vm.Script.runInContext'])
// Values handed into a sandbox that turn their argument into code or objects with behaviour.
const DANGEROUS_MODULES = [
  'notevil',
  'safe-eval',
  'static-eval',
  'vm2',
  'expr-eval',
  'mathjs',
  'node-serialize',
  'funcster',
  'serialize-to-js',
  'cryo',
  'js-yaml',
  'libxmljs',
  'libxmljs2',
  'vm',
  'child_process',
]
const CODE_BUILTINS = new Set(['eval', 'Function', 'require'])

/** node:vm compiling code that is not fixed in the source, or fixed code fed request data. */
export const vmCode: Rule = {
  id: 'vm-code',
  severity: 'high',
  title: 'Code built from data is compiled with node:vm',
  description:
    'vm.runIn*Context, vm.compileFunction and new vm.Script compile their first argument. ' +
    'node:vm is not a sandbox: code inside it can reach the host through constructors and ' +
    'escape. Critical when the code is request data, and when fixed code passes request data ' +
    'from the context object to eval, Function, require or an evaluator, deserializer or ' +
    "parser handed in with it (vm.runInContext('safeEval(x)', { safeEval, x: req.body.x })).",
  fix: 'Do not run data as code; interpret a small, validated data format instead.',
  bad: 'vm.runInNewContext(req.body.expression, { Math })',
  good: 'const result = evaluateExpression(parseExpression(req.body.expression)) // a data AST',
  check(node, file) {
    if (!ts.isCallExpression(node) && !ts.isNewExpression(node)) return undefined
    const callee = file.calleeName(node)
    if (callee === undefined) return undefined
    if (SCRIPT_RUNNERS.has(callee) && ts.isCallExpression(node)) {
      const code = scriptSource(node, file)
      const context = node.arguments[0]
      return code && context ? contextReport(node, callee, code, context, file) : undefined
    }
    if (!VM_COMPILERS.has(callee)) return undefined
    const code = node.arguments?.[0]
    if (!code) return undefined
    if (isStaticValue(code)) {
      const context = node.arguments?.[1]
      if (!WITH_CONTEXT.has(callee) || !context) return undefined
      return contextReport(node, callee, code, context, file)
    }
    const fromRequest = file.isRequestData(code)
    return {
      node,
      message: fromRequest
        ? `${callee} compiles request data as code`
        : `${callee} compiles a string that is not a literal`,
      severity: fromRequest ? 'critical' : undefined,
    }
  },
}

/** What a key of the context object holds: request data, and which module's value. */
interface ContextKey {
  fromRequest: boolean
  module: string | undefined
}

// Fixed code that hands request data from its context to something that runs or rebuilds it.
function contextReport(
  node: ts.CallExpression | ts.NewExpression,
  callee: string,
  code: ts.Expression,
  context: ts.Expression,
  file: FileContext,
) {
  const literal = unwrap(code)
  if (!ts.isStringLiteralLike(literal)) return undefined
  const keys = contextKeys(context, file)
  if (![...keys.values()].some((k) => k.fromRequest)) return undefined
  const inner = ts.createSourceFile('vm.js', literal.text, ts.ScriptTarget.Latest, true)
  const visit = (child: ts.Node): string | undefined => {
    if (ts.isCallExpression(child) || ts.isNewExpression(child)) {
      const root = rootName(child.expression)
      const runsCode =
        root !== undefined &&
        (CODE_BUILTINS.has(root) || isDangerous(keys.get(root)?.module, child, file))
      if (runsCode && (child.arguments ?? []).some((arg) => mentionsRequestKey(arg, keys))) {
        return child.expression.getText(inner)
      }
    }
    return ts.forEachChild(child, visit)
  }
  const sink = visit(inner)
  if (sink === undefined) return undefined
  return {
    node,
    message: `${callee} runs ${sink}() on request data from its context object`,
    severity: 'critical' as const,
  }
}

function isDangerous(
  module: string | undefined,
  call: ts.CallExpression | ts.NewExpression,
  file: FileContext,
): boolean {
  if (module === undefined) return false
  const name = DANGEROUS_MODULES.find((m) => module === m || module.startsWith(`${m}.`))
  if (name === undefined) return false
  // js-yaml 4 load() is safe; js-yaml 3 load() compiles !!js/function.
  if (name === 'js-yaml' && /\.(load|loadAll)$/.test(call.expression.getText())) {
    const major = file.project.jsYamlMajor(file.path)
    return major === undefined || major < 4
  }
  return true
}

// The keys of `{ safeEval, input: req.body.x }`, of `vm.createContext(that)`, or of a local
// holding it, plus `sandbox.key = ...` assignments in the same function.
function contextKeys(context: ts.Expression, file: FileContext): Map<string, ContextKey> {
  const keys = new Map<string, ContextKey>()
  let object: ts.Expression | undefined = unwrapContext(context, file)
  let name: string | undefined
  if (ts.isIdentifier(object)) {
    name = object.text
    const init = localInitializer(object, file)
    object = init && unwrapContext(init, file)
  }
  if (object && ts.isObjectLiteralExpression(object)) {
    for (const prop of object.properties) {
      if (ts.isPropertyAssignment(prop) && ts.isIdentifier(prop.name)) {
        keys.set(prop.name.text, keyOf(prop.initializer, file))
      } else if (ts.isShorthandPropertyAssignment(prop)) {
        keys.set(prop.name.text, keyOf(prop.name, file))
      }
    }
  }
  if (name !== undefined) {
    const scope = enclosingBody(context) ?? file.sourceFile
    const visit = (node: ts.Node): void => {
      if (
        ts.isBinaryExpression(node) &&
        node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
        ts.isPropertyAccessExpression(node.left) &&
        ts.isIdentifier(node.left.expression) &&
        node.left.expression.text === name
      ) {
        keys.set(node.left.name.text, keyOf(node.right, file))
      }
      ts.forEachChild(node, visit)
    }
    visit(scope)
  }
  return keys
}

function keyOf(value: ts.Expression, file: FileContext): ContextKey {
  const inner = unwrap(value)
  const module = ts.isIdentifier(inner)
    ? file.bindings.get(inner.text)
    : ts.isPropertyAccessExpression(inner)
      ? file.bindings.get(rootName(inner) ?? '')
      : undefined
  return { fromRequest: file.isRequestData(value), module }
}

function unwrapContext(expr: ts.Expression, file: FileContext): ts.Expression {
  const inner = unwrap(expr)
  if (ts.isCallExpression(inner) && file.calleeName(inner) === 'vm.createContext') {
    return inner.arguments[0] ? unwrap(inner.arguments[0]) : inner
  }
  return inner
}

// `const script = new vm.Script('...')`: the code of the script a runner is called on.
function scriptSource(call: ts.CallExpression, file: FileContext): ts.Expression | undefined {
  const callee = unwrap(call.expression)
  if (!ts.isPropertyAccessExpression(callee)) return undefined
  let receiver: ts.Expression | undefined = unwrap(callee.expression)
  if (ts.isIdentifier(receiver)) receiver = localInitializer(receiver, file)
  if (!receiver || !ts.isNewExpression(unwrap(receiver))) return undefined
  const code = (unwrap(receiver) as ts.NewExpression).arguments?.[0]
  return code && isStaticValue(code) ? code : undefined
}

// The initializer of the nearest declaration of `id`: in the enclosing function, else the file.
function localInitializer(id: ts.Identifier, file: FileContext): ts.Expression | undefined {
  const find = (scope: ts.Node): ts.Expression | undefined => {
    const visit = (node: ts.Node): ts.Expression | undefined => {
      if (
        ts.isVariableDeclaration(node) &&
        ts.isIdentifier(node.name) &&
        node.name.text === id.text
      ) {
        return node.initializer
      }
      return ts.forEachChild(node, visit)
    }
    return visit(scope)
  }
  const body = enclosingBody(id)
  return (body && find(body)) ?? find(file.sourceFile)
}

function enclosingBody(node: ts.Node): ts.Node | undefined {
  for (let current = node.parent; current; current = current.parent) {
    if (ts.isFunctionLike(current)) return current
  }
  return undefined
}

function rootName(expr: ts.Expression): string | undefined {
  let current = unwrap(expr)
  while (ts.isPropertyAccessExpression(current) || ts.isElementAccessExpression(current)) {
    current = unwrap(current.expression)
  }
  return ts.isIdentifier(current) ? current.text : undefined
}

function mentionsRequestKey(expr: ts.Node, keys: Map<string, ContextKey>): boolean {
  const isName = ts.isPropertyAccessExpression(expr.parent) && expr.parent.name === expr
  if (ts.isIdentifier(expr) && !isName && keys.get(expr.text)?.fromRequest) return true
  return ts.forEachChild(expr, (child) => mentionsRequestKey(child, keys) || undefined) ?? false
}
