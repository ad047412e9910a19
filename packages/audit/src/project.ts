import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The js-yaml major version that applies to a file: the one installed in the nearest
 * node_modules, else the one declared in the nearest package.json that names it.
 * Cached per directory, since a project has a handful of them and thousands of files.
 */
export function jsYamlVersionLookup(): (file: string) => number | undefined {
  const cache = new Map<string, number | undefined>()
  const lookup = (dir: string): number | undefined => {
    if (cache.has(dir)) return cache.get(dir)
    let major = installedMajor(dir) ?? declaredMajor(dir)
    const parent = dirname(dir)
    if (major === undefined && parent !== dir) major = lookup(parent)
    cache.set(dir, major)
    return major
  }
  return (file) => lookup(dirname(file))
}

function installedMajor(dir: string): number | undefined {
  const manifest = readJson(join(dir, 'node_modules', 'js-yaml', 'package.json'))
  return typeof manifest?.version === 'string' ? majorOf(manifest.version) : undefined
}

function declaredMajor(dir: string): number | undefined {
  const manifest = readJson(join(dir, 'package.json'))
  if (!manifest) return undefined
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    const deps = manifest[field]
    if (typeof deps !== 'object' || deps === null) continue
    const range: unknown = (deps as Record<string, unknown>)['js-yaml']
    if (typeof range === 'string') return majorOf(range)
  }
  return undefined
}

// '^3.13.1', '~4.1', '3.x', '>=3 <4': the first number is the major the range starts at.
function majorOf(version: string): number | undefined {
  const match = /(\d+)/.exec(version)
  return match?.[1] === undefined ? undefined : Number(match[1])
}

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'))
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
