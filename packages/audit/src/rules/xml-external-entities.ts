import ts from 'typescript'
import { isStaticValue } from '../context.js'
import type { FileContext } from '../context.js'
import type { Rule } from '../types.js'

// libxmljs and its maintained fork parse with libxml2, whose `noent` option substitutes
// entities, external ones included (a SYSTEM entity reads a file or a URL).
const PARSERS = new Set(
  ['libxmljs', 'libxmljs2'].flatMap((m) =>
    ['parseXml', 'parseXmlString', 'Document.fromXml'].map((f) => `${m}.${f}`),
  ),
)
// The same switch as a libxml2 flag (libxml2-wasm's ParseOption.XML_PARSE_NOENT, and
// bindings that copy libxml2's names).
const NOENT_FLAG = 'XML_PARSE_NOENT'

/** XML parsed with entity substitution: external entities read files and URLs (XXE). */
export const xmlExternalEntities: Rule = {
  id: 'xml-external-entities',
  severity: 'high',
  title: 'XML is parsed with external entity substitution',
  description:
    'libxmljs and libxmljs2 parseXml()/parseXmlString() with `noent: true`, and libxml2 ' +
    'bindings given the XML_PARSE_NOENT flag (libxml2-wasm ParseOption.XML_PARSE_NOENT), ' +
    'replace entities with their content, external ones included: a document that declares ' +
    '`<!ENTITY x SYSTEM "file:///etc/passwd">` reads that file (or fetches a URL) into the ' +
    'parsed tree. Critical when the document is request data.',
  fix:
    'Parse with entity substitution off (omit noent, or noent: false; leave out ' +
    'XML_PARSE_NOENT), or exchange JSON and decode it with safebody.',
  bad: 'const doc = libxmljs.parseXml(req.body, { noent: true })',
  good: 'const doc = libxmljs.parseXml(req.body, { noent: false, nonet: true })',
  check(node, file) {
    if (ts.isPropertyAccessExpression(node) && node.name.text === NOENT_FLAG) {
      return { node, message: `${NOENT_FLAG} makes libxml2 substitute external entities` }
    }
    if (!ts.isCallExpression(node)) return undefined
    const callee = file.calleeName(node)
    if (callee === undefined || !PARSERS.has(callee)) return undefined
    const options = node.arguments[1]
    if (!options || !substitutesEntities(options, file)) return undefined
    const input = node.arguments[0]
    const fromRequest = input !== undefined && !isStaticValue(input) && file.isRequestData(input)
    return {
      node,
      message: `${callee}() with noent: true substitutes external entities${fromRequest ? ' in request data' : ''}`,
      severity: fromRequest ? 'critical' : undefined,
    }
  },
}

// `{ noent: true }`, or a local const holding such an object.
function substitutesEntities(options: ts.Expression, file: FileContext): boolean {
  let object: ts.Expression | undefined = options
  if (ts.isIdentifier(options)) object = constInitializer(options.text, file.sourceFile)
  if (!object || !ts.isObjectLiteralExpression(object)) return false
  return object.properties.some(
    (prop) =>
      ts.isPropertyAssignment(prop) &&
      prop.name.getText() === 'noent' &&
      isTruthyLiteral(prop.initializer),
  )
}

function isTruthyLiteral(expr: ts.Expression): boolean {
  if (expr.kind === ts.SyntaxKind.TrueKeyword) return true
  if (ts.isNumericLiteral(expr)) return Number(expr.text) !== 0
  return false
}

function constInitializer(name: string, sourceFile: ts.SourceFile): ts.Expression | undefined {
  const visit = (node: ts.Node): ts.Expression | undefined => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name) {
      return node.initializer
    }
    return ts.forEachChild(node, visit)
  }
  return visit(sourceFile)
}
