import { extname } from 'node:path'
import ts from 'typescript'

const SCRIPT_KINDS: Record<string, ts.ScriptKind> = {
  '.js': ts.ScriptKind.JS,
  '.mjs': ts.ScriptKind.JS,
  '.cjs': ts.ScriptKind.JS,
  '.jsx': ts.ScriptKind.JSX,
  '.ts': ts.ScriptKind.TS,
  '.mts': ts.ScriptKind.TS,
  '.cts': ts.ScriptKind.TS,
  '.tsx': ts.ScriptKind.TSX,
}

/** The file extensions the audit reads. */
const AUDITED_EXTENSIONS = new Set(Object.keys(SCRIPT_KINDS))

/** True for a file the audit should read: a script, not a `.d.ts` declaration. */
export function isAuditedFile(path: string): boolean {
  return AUDITED_EXTENSIONS.has(extname(path)) && !/\.d\.[cm]?ts$/.test(path)
}

/** Parses one file into a syntax tree with parent links, the script kind taken from its name. */
export function parseSource(path: string, text: string): ts.SourceFile {
  const kind = SCRIPT_KINDS[extname(path)] ?? ts.ScriptKind.JS
  return ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind)
}
