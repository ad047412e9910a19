import ts from 'typescript'

/** A `safebody-audit-ignore` comment: the rules it names and the reason it gives. */
export interface Suppression {
  /** The line the comment starts on; it covers a finding there. */
  line: number
  /** The line after the comment, which it also covers when it is alone on its line(s):
   * nothing but blanks before it and after it (`/* ... *\/ eval(x)` covers its own line only). */
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

/** Reads the suppression comments of one file; lines are 1-based. */
export function readSuppressions(
  file: string,
  sourceFile: ts.SourceFile,
): { suppressions: Suppression[]; invalid: InvalidSuppression[] } {
  const suppressions: Suppression[] = []
  const invalid: InvalidSuppression[] = []
  const text = sourceFile.text
  if (!text.includes('safebody-audit-ignore')) return { suppressions, invalid }
  for (const range of commentRanges(sourceFile)) {
    const comment = text.slice(range.pos, range.end)
    const marker = MARKER.exec(comment)
    if (!marker) continue
    // Lines as TypeScript counts them (CR, CRLF, LF, U+2028 and U+2029 all end a line), the
    // same model the findings' lines come from.
    const starts = sourceFile.getLineStarts()
    const first = sourceFile.getLineAndCharacterOfPosition(range.pos).line
    const last = sourceFile.getLineAndCharacterOfPosition(range.end).line
    const line = first + 1
    const before = text.slice(starts[first], range.pos)
    const after = text.slice(range.end, starts[last + 1] ?? text.length)
    const alone = before.trim() === '' && after.trim() === ''
    const body = BODY.exec(marker[1] ?? '')
    if (!body?.[1] || !body[2]) {
      invalid.push({ file, line, text: comment.trim() })
      continue
    }
    const ruleIds = body[1].split(',').map((id) => id.trim())
    suppressions.push({
      line,
      ...(alone ? { nextLine: last + 2 } : {}),
      ruleIds,
      reason: body[2],
    })
  }
  return { suppressions, invalid }
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
