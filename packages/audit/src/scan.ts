import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import ignore, { type Ignore } from 'ignore'
import type { AuditedFile } from './analyze.js'
import { isAuditedFile } from './parse.js'

/** Where to look and what to leave out. */
export interface ScanOptions {
  /** Files and directories to scan, relative to `cwd`. */
  paths: readonly string[]
  cwd: string
  /** Extra .gitignore-style patterns, relative to each scanned directory. */
  exclude?: readonly string[]
  /** Honour .gitignore files (from the git root down); on by default. */
  gitignore?: boolean
}

// Never the project's own code: dependencies, Yarn's vendored releases and cache, VCS internals.
const ALWAYS_SKIPPED = ['node_modules/', '.yarn/', '.git/']

interface Matcher {
  base: string
  rules: Ignore
}

/** Lists the files to audit under the given paths, sorted, with .gitignore and excludes applied. */
export function discoverFiles(options: ScanOptions): AuditedFile[] {
  const found = new Map<string, AuditedFile>()
  const honourGitignore = options.gitignore ?? true
  for (const path of options.paths) {
    const absolute = resolve(options.cwd, path)
    const stats = statSync(absolute)
    if (stats.isFile()) {
      if (isAuditedFile(absolute)) found.set(absolute, toAudited(absolute, options.cwd))
      continue
    }
    const base: Matcher = {
      base: absolute,
      rules: ignore().add([...ALWAYS_SKIPPED, ...(options.exclude ?? [])]),
    }
    const inherited = honourGitignore ? ancestorGitignores(absolute) : []
    walk(absolute, [base, ...inherited], honourGitignore, (file) => {
      found.set(file, toAudited(file, options.cwd))
    })
  }
  return [...found.values()].sort((a, b) => a.display.localeCompare(b.display))
}

function walk(
  dir: string,
  matchers: readonly Matcher[],
  honourGitignore: boolean,
  onFile: (file: string) => void,
): void {
  const own = honourGitignore ? gitignoreAt(dir) : undefined
  const active = own ? [...matchers, own] : matchers
  const entries = readdirSync(dir, { withFileTypes: true })
  for (const entry of entries) {
    // Symbolic links are skipped: they can loop, and their target is scanned where it lives.
    if (entry.isSymbolicLink()) continue
    const path = join(dir, entry.name)
    const isDir = entry.isDirectory()
    if (isIgnored(path, isDir, active)) continue
    if (isDir) walk(path, active, honourGitignore, onFile)
    else if (entry.isFile() && isAuditedFile(path)) onFile(path)
  }
}

function isIgnored(path: string, isDir: boolean, matchers: readonly Matcher[]): boolean {
  return matchers.some((m) => {
    const rel = relative(m.base, path).split(sep).join('/')
    if (rel === '' || rel.startsWith('..')) return false
    return m.rules.ignores(isDir ? `${rel}/` : rel)
  })
}

function gitignoreAt(dir: string): Matcher | undefined {
  const path = join(dir, '.gitignore')
  if (!existsSync(path)) return undefined
  return { base: dir, rules: ignore().add(readFileSync(path, 'utf8')) }
}

// .gitignore files between the enclosing git root and the scanned directory (exclusive).
function ancestorGitignores(dir: string): Matcher[] {
  if (existsSync(join(dir, '.git'))) return []
  const chain: string[] = []
  for (let current = dirname(dir); ; current = dirname(current)) {
    chain.unshift(current)
    if (existsSync(join(current, '.git'))) break
    if (dirname(current) === current) return []
  }
  return chain.flatMap((d) => gitignoreAt(d) ?? [])
}

function toAudited(path: string, cwd: string): AuditedFile {
  const rel = relative(cwd, path)
  const display = rel.startsWith('..') || isAbsolute(rel) ? path : rel
  return { path, display: display.split(sep).join('/') }
}
