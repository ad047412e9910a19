/** A `safebody-audit-ignore` comment: the rules it names and the reason it gives. */
export interface Suppression {
  line: number
  ruleIds: string[]
  reason: string
}

/** A suppression comment that names no rule or gives no reason, and so silences nothing. */
export interface InvalidSuppression {
  file: string
  line: number
  text: string
}

// `// safebody-audit-ignore code-eval, vm-code: reason` (or `-- reason`). Read per line rather
// than from the syntax tree's comments: it is cheaper and the marker is unlikely in strings.
const MARKER = /(?:\/\/|\/\*)\s*safebody-audit-ignore\b(.*?)(?:\*\/|$)/
const BODY = /^\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*(?::|--)\s*(\S.*?)\s*$/

/** Reads the suppression comments of one file; lines are 1-based. */
export function readSuppressions(
  file: string,
  text: string,
): { suppressions: Suppression[]; invalid: InvalidSuppression[] } {
  const suppressions: Suppression[] = []
  const invalid: InvalidSuppression[] = []
  if (!text.includes('safebody-audit-ignore')) return { suppressions, invalid }
  const lines = text.split('\n')
  lines.forEach((content, index) => {
    const marker = MARKER.exec(content)
    if (!marker) return
    const body = BODY.exec(marker[1] ?? '')
    if (!body?.[1] || !body[2]) {
      invalid.push({ file, line: index + 1, text: content.trim() })
      return
    }
    const ruleIds = body[1].split(',').map((id) => id.trim())
    suppressions.push({ line: index + 1, ruleIds, reason: body[2] })
  })
  return { suppressions, invalid }
}

/**
 * The suppression covering a finding: a comment on the finding's line, or on the line above
 * when that line holds only the comment.
 */
export function findSuppression(
  suppressions: readonly Suppression[],
  line: number,
  ruleId: string,
  lineText: (line: number) => string,
): Suppression | undefined {
  return suppressions.find(
    (s) =>
      s.ruleIds.includes(ruleId) &&
      (s.line === line || (s.line === line - 1 && /^\s*(\/\/|\/\*)/.test(lineText(s.line)))),
  )
}
