import { type Dirent, existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import ignore, { type Ignore } from 'ignore'
import { isAuditedFile } from './parse.js'
import { isBundleName, isTestPath, isVendorFolder } from './vendor.js'

/** A file to analyse: where to read it, how to name it in findings, and what it is. */
export interface AuditedFile {
  path: string
  display: string
  /** Named on the command line: always read, always application code. */
  explicit: boolean
  /** A test (by folder or name, relative to the scanned directory) or application code. */
  role: 'code' | 'test'
}

/** A file or folder left out: not the application's own code, or over the size limit. */
export interface SkippedPath {
  file: string
  reason: 'vendor folder' | 'minified name' | 'minified' | 'generated' | 'too large'
}

/** Where to look and what to leave out. */
export interface ScanOptions {
  /** Files and directories to scan, relative to `cwd`. */
  paths: readonly string[]
  cwd: string
  /** Extra .gitignore-style patterns, relative to each scanned directory. */
  exclude?: readonly string[]
  /** Honour .gitignore files (from the git root down); on by default. */
  gitignore?: boolean
  /** Read vendor folders and minified bundles too; off by default. */
  includeVendor?: boolean
}

/** A path that could not be audited, and why (`String(error)` of what reading it threw). */
export interface UnreadablePath {
  file: string
  error: string
}

/** The files to audit, the vendored paths that were left out, and what could not be read. */
export interface Discovery {
  files: AuditedFile[]
  skipped: SkippedPath[]
  /** Folders that could not be listed, `.gitignore` files that could not be read, and paths
   * named on the command line that are neither a file nor a folder (a FIFO, a socket). */
  unreadable: UnreadablePath[]
}

// Never the project's own code: dependencies, Yarn's vendored releases and cache, VCS internals.
const ALWAYS_SKIPPED = ['node_modules/', '.yarn/', '.git/']

interface Matcher {
  base: string
  rules: Ignore
}

/** Lists the files to audit under the given paths, sorted, with .gitignore and excludes applied. */
export function discoverFiles(options: ScanOptions): Discovery {
  const found = new Map<string, AuditedFile>()
  const skipped: SkippedPath[] = []
  const unreadable: UnreadablePath[] = []
  const honourGitignore = options.gitignore ?? true
  const onUnreadable = (path: string, error: unknown) => {
    unreadable.push({ file: toAudited(path, options.cwd).display, error: String(error) })
  }
  for (const path of options.paths) {
    const absolute = resolve(options.cwd, path)
    // A path that does not exist throws: a usage error (exit 2), as a mistyped name is.
    const stats = statSync(absolute)
    if (stats.isFile()) {
      if (isAuditedFile(absolute)) {
        found.set(absolute, { ...toAudited(absolute, options.cwd), explicit: true, role: 'code' })
      }
      continue
    }
    if (!stats.isDirectory()) {
      // Reading a FIFO would wait for a writer; a socket or a device is no source file.
      onUnreadable(absolute, 'not a regular file or a directory')
      continue
    }
    const base: Matcher = {
      base: absolute,
      rules: ignore().add([...ALWAYS_SKIPPED, ...(options.exclude ?? [])]),
    }
    const inherited = honourGitignore ? ancestorGitignores(absolute, onUnreadable) : []
    const walker: Walker = {
      honourGitignore,
      onUnreadable,
      includeVendor: options.includeVendor ?? false,
      onFile: (file) => {
        const role = isTestPath(slashed(relative(absolute, file))) ? 'test' : 'code'
        found.set(file, { ...toAudited(file, options.cwd), explicit: false, role })
      },
      onSkip: (path, reason) => {
        const { display } = toAudited(path, options.cwd)
        skipped.push({ file: reason === 'vendor folder' ? `${display}/` : display, reason })
      },
    }
    walk(absolute, [base, ...inherited], walker)
  }
  const byDisplay = (a: { display: string }, b: { display: string }) =>
    a.display.localeCompare(b.display)
  return {
    files: [...found.values()].sort(byDisplay),
    skipped,
    unreadable,
  }
}

interface Walker {
  honourGitignore: boolean
  includeVendor: boolean
  onFile: (file: string) => void
  onSkip: (path: string, reason: SkippedPath['reason']) => void
  onUnreadable: (path: string, error: unknown) => void
}

function walk(dir: string, matchers: readonly Matcher[], walker: Walker): void {
  const own = walker.honourGitignore ? gitignoreAt(dir, walker.onUnreadable) : undefined
  const active = own ? [...matchers, own] : matchers
  let entries: Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch (error) {
    // A folder without read permission: listed, and the rest of the tree is still scanned.
    walker.onUnreadable(dir, error)
    return
  }
  for (const entry of entries) {
    // Symbolic links are skipped: they can loop, and their target is scanned where it lives.
    if (entry.isSymbolicLink()) continue
    const path = join(dir, entry.name)
    const isDir = entry.isDirectory()
    if (isIgnored(path, isDir, active)) continue
    if (isDir) {
      if (!walker.includeVendor && isVendorFolder(entry.name)) walker.onSkip(path, 'vendor folder')
      else walk(path, active, walker)
    } else if (entry.isFile() && isAuditedFile(path)) {
      if (!walker.includeVendor && isBundleName(entry.name)) walker.onSkip(path, 'minified name')
      else walker.onFile(path)
    }
  }
}

function isIgnored(path: string, isDir: boolean, matchers: readonly Matcher[]): boolean {
  return matchers.some((m) => {
    const rel = relative(m.base, path).split(sep).join('/')
    if (rel === '' || rel.startsWith('..')) return false
    return m.rules.ignores(isDir ? `${rel}/` : rel)
  })
}

// A .gitignore that cannot be read (no permission, a folder of that name) is listed as
// unreadable and its patterns are not applied: the scan reads more, never less.
function gitignoreAt(
  dir: string,
  onUnreadable: (path: string, error: unknown) => void,
): Matcher | undefined {
  const path = join(dir, '.gitignore')
  if (!existsSync(path)) return undefined
  try {
    return { base: dir, rules: ignore().add(readFileSync(path, 'utf8')) }
  } catch (error) {
    onUnreadable(path, error)
    return undefined
  }
}

// .gitignore files between the enclosing git root and the scanned directory (exclusive).
function ancestorGitignores(
  dir: string,
  onUnreadable: (path: string, error: unknown) => void,
): Matcher[] {
  if (existsSync(join(dir, '.git'))) return []
  const chain: string[] = []
  for (let current = dirname(dir); ; current = dirname(current)) {
    chain.unshift(current)
    if (existsSync(join(current, '.git'))) break
    if (dirname(current) === current) return []
  }
  return chain.flatMap((d) => gitignoreAt(d, onUnreadable) ?? [])
}

function toAudited(path: string, cwd: string): { path: string; display: string } {
  const rel = relative(cwd, path)
  const display = rel.startsWith('..') || isAbsolute(rel) ? path : rel
  return { path, display: slashed(display) }
}

function slashed(path: string): string {
  return path.split(sep).join('/')
}
