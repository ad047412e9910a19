import ts from 'typescript'

/** A `safebody-audit-ignore` comment: the rules it names and the reason it gives. */
export interface Suppression {
  /** The line the comment starts on; it covers a finding there. */
  line: number
  /** The next code line, which it also covers when it is alone on its line(s): nothing but
   * blanks before it and after it (`/* ... *\/ eval(x)` covers its own line only). Comment lines
   * right below it are passed over; a blank line ends its reach. */
  nextLine?: number
  ruleIds: string[]
  reason: string
}

/** A suppression comment that names no rule or gives no reason, and so silences nothing. */
export interface InvalidSuppression {
  file: string
  line: number
  text: string
}

// `// safebody-audit-ignore code-eval, vm-code: reason` (or `-- reason`), in a real comment:
// read from the syntax tree's comment ranges, so the marker inside a string does not count.
const MARKER = /^(?:\/\/|\/\*)\s*safebody-audit-ignore\b(.*?)(?:\*\/)?$/s
const BODY = /^\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*(?::|--)\s*(\S.*?)\s*$/
// `// eslint-disable-next-line`, `// @ts-expect-error`, `/// <reference>`: a comment for another
// tool, which ends a reason that goes on over several `//` lines.
const DIRECTIVE =
  /^\/\/\s*(?:\/|eslint[-\s]|@ts-|prettier-ignore|istanbul\s|c8\s|biome-ignore|nosemgrep|NOSONAR)/

/** Reads the suppression comments of one file; lines are 1-based. */
export function readSuppressions(
  file: string,
  sourceFile: ts.SourceFile,
): { suppressions: Suppression[]; invalid: InvalidSuppression[] } {
  const suppressions: Suppression[] = []
  const invalid: InvalidSuppression[] = []
  const text = sourceFile.text
  if (!text.includes('safebody-audit-ignore')) return { suppressions, invalid }
  const ranges = commentRanges(sourceFile)
  // Lines as TypeScript counts them (CR, CRLF, LF, U+2028 and U+2029 all end a line), the
  // same model the findings' lines come from.
  const starts = sourceFile.getLineStarts()
  const lineOf = (pos: number) => sourceFile.getLineAndCharacterOfPosition(pos).line
  ranges.forEach((range, index) => {
    const comment = text.slice(range.pos, range.end)
    const marker = MARKER.exec(comment)
    if (!marker) return
    const first = lineOf(range.pos)
    const last = lineOf(range.end)
    const line = first + 1
    const before = text.slice(starts[first], range.pos)
    const after = text.slice(range.end, starts[last + 1] ?? text.length)
    const alone = before.trim() === '' && after.trim() === ''
    const below = alone ? commentsBelow(sourceFile, ranges, index) : undefined
    // A block comment's reason runs to its end, without the ` * ` that starts its lines.
    const own = (marker[1] ?? '').replace(/(\r\n|[\r\n\u2028\u2029])\s*\*(?!\/)/g, ' ')
    const body = BODY.exec([own, ...(below?.reason ?? [])].join(' ').replace(/\s+/g, ' '))
    if (!body?.[1] || !body[2]) {
      invalid.push({ file, line, text: comment.trim() })
      return
    }
    const ruleIds = body[1].split(',').map((id) => id.trim())
    suppressions.push({
      line,
      ...(below ? { nextLine: below.nextLine } : {}),
      ruleIds,
      reason: body[2],
    })
  })
  return { suppressions, invalid }
}

/**
 * The comments alone on the lines right below a suppression that is alone on its line(s): the
 * `//` lines directly under a `//` suppression go on with its reason, up to the first that is
 * another suppression or a tool's directive; the suppression covers the first line after them
 * that holds code (a blank line first: none).
 */
function commentsBelow(
  sourceFile: ts.SourceFile,
  ranges: readonly ts.CommentRange[],
  index: number,
): { reason: string[]; nextLine: number } {
  const text = sourceFile.text
  const lineOf = (pos: number) => sourceFile.getLineAndCharacterOfPosition(pos).line
  const reason: string[] = []
  let continuing = ranges[index]?.kind === ts.SyntaxKind.SingleLineCommentTrivia
  let end = ranges[index]?.end ?? text.length
  for (let next = index + 1; next < ranges.length; next++) {
    const range = ranges[next] as ts.CommentRange
    const lines = lineOf(range.pos) - lineOf(end)
    if (lines > 1 || text.slice(end, range.pos).trim() !== '') break
    const comment = text.slice(range.pos, range.end)
    continuing &&=
      lines === 1 &&
      range.kind === ts.SyntaxKind.SingleLineCommentTrivia &&
      !MARKER.test(comment) &&
      !DIRECTIVE.test(comment)
    if (continuing) reason.push(comment.slice(2))
    end = range.end
  }
  // Code after the last comment on its line (`/* note */ eval(x)`) makes that line the next.
  const last = lineOf(end)
  const rest = text.slice(end, sourceFile.getLineStarts()[last + 1] ?? text.length)
  return { reason, nextLine: rest.trim() === '' ? last + 2 : last + 1 }
}

// Every comment of the file once, in source order: leading and trailing trivia of each token.
function commentRanges(sourceFile: ts.SourceFile): ts.CommentRange[] {
  const text = sourceFile.text
  const byStart = new Map<number, ts.CommentRange>()
  const collect = (ranges: ts.CommentRange[] | undefined): void => {
    for (const range of ranges ?? []) byStart.set(range.pos, range)
  }
  const visit = (node: ts.Node): void => {
    collect(ts.getLeadingCommentRanges(text, node.pos))
    collect(ts.getTrailingCommentRanges(text, node.end))
    ts.forEachChild(node, visit)
  }
  visit(sourceFile)
  collect(ts.getLeadingCommentRanges(text, sourceFile.endOfFileToken.pos))
  return [...byStart.values()].sort((a, b) => a.pos - b.pos)
}

/**
 * The suppression covering a finding: a comment on the finding's line, or on the line above
 * when the comment is alone on its line.
 */
export function findSuppression(
  suppressions: readonly Suppression[],
  line: number,
  ruleId: string,
): Suppression | undefined {
  return suppressions.find(
    (s) => s.ruleIds.includes(ruleId) && (s.line === line || s.nextLine === line),
  )
}
