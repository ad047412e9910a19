import { dirname, resolve } from 'node:path'

/** A function named from somewhere: by export path in another file, or by local path. */
export interface FunctionRef {
  file: string
  path: string
  /** True when `path` is an export path of `file`, false when it is a local path. */
  exported: boolean
}

const EXTENSIONS = ['.js', '.ts', '.mjs', '.cjs', '.mts', '.cts', '.jsx', '.tsx']
// TypeScript sources import each other by their output name: './users.js' is './users.ts'.
const OUTPUT_TO_SOURCE: Record<string, string[]> = {
  '.js': ['.ts', '.tsx'],
  '.mjs': ['.mts'],
  '.cjs': ['.cts'],
}

/**
 * Resolves a qualified name that starts with a relative module specifier, such as
 * `../core/appHandler.userSearch`, to a scanned file and an export path. Only scanned files
 * count: a module outside the scan is not followed.
 */
export class ModuleResolver {
  private readonly cache = new Map<string, string | null>()

  constructor(private readonly files: ReadonlySet<string>) {}

  resolve(fromFile: string, qualified: string): { file: string; exportPath: string } | undefined {
    if (!qualified.startsWith('.')) return undefined
    const slash = qualified.lastIndexOf('/')
    if (slash === -1) return undefined
    const head = qualified.slice(0, slash + 1)
    const tail = qualified.slice(slash + 1)
    // The specifier's last segment may itself hold dots (`user.controller`): try the longest
    // specifier first, then cut member names off its end.
    const cuts = [tail.length]
    for (let at = tail.lastIndexOf('.'); at > 0; at = tail.lastIndexOf('.', at - 1)) cuts.push(at)
    for (const cut of cuts) {
      const file = this.fileFor(resolve(dirname(fromFile), head + tail.slice(0, cut)))
      if (file !== undefined) return { file, exportPath: tail.slice(cut + 1) }
    }
    return undefined
  }

  private fileFor(base: string): string | undefined {
    const cached = this.cache.get(base)
    if (cached !== undefined) return cached ?? undefined
    const candidates = [base, ...EXTENSIONS.map((ext) => base + ext)]
    for (const [output, sources] of Object.entries(OUTPUT_TO_SOURCE)) {
      if (base.endsWith(output)) {
        candidates.push(...sources.map((ext) => base.slice(0, -output.length) + ext))
      }
    }
    candidates.push(...EXTENSIONS.map((ext) => `${base}/index${ext}`))
    const found = candidates.find((candidate) => this.files.has(candidate))
    this.cache.set(base, found ?? null)
    return found
  }
}
