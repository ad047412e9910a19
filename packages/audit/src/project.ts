import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** A version as [major, minor, patch]. */
export type Version = readonly number[]

/**
 * The version of a package that applies to a file: the one installed in the nearest
 * node_modules, else the lowest the nearest package.json that names it allows. Cached per
 * package and directory, since a project has a handful of them and thousands of files.
 */
export function packageVersionLookup(): (name: string, file: string) => Version | undefined {
  const cache = new Map<string, Version | undefined>()
  const lookup = (name: string, dir: string): Version | undefined => {
    const key = `${name}\0${dir}`
    if (cache.has(key)) return cache.get(key)
    let version = installedVersion(name, dir) ?? declaredVersion(name, dir)
    const parent = dirname(dir)
    if (version === undefined && parent !== dir) version = lookup(name, parent)
    cache.set(key, version)
    return version
  }
  return (name, file) => lookup(name, dirname(file))
}

/** The js-yaml major version that applies to a file (see packageVersionLookup). */
export function jsYamlVersionLookup(): (file: string) => number | undefined {
  const lookup = packageVersionLookup()
  return (file) => lookup('js-yaml', file)?.[0]
}

/** True when `version` is before `fixed`. */
export function isBefore(version: Version, fixed: Version): boolean {
  for (let i = 0; i < 3; i++) {
    const a = version[i] ?? 0
    const b = fixed[i] ?? 0
    if (a !== b) return a < b
  }
  return false
}

function installedVersion(name: string, dir: string): Version | undefined {
  const manifest = readJson(join(dir, 'node_modules', name, 'package.json'))
  return typeof manifest?.version === 'string' ? versionOf(manifest.version) : undefined
}

function declaredVersion(name: string, dir: string): Version | undefined {
  const manifest = readJson(join(dir, 'package.json'))
  if (!manifest) return undefined
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    const deps = manifest[field]
    if (typeof deps !== 'object' || deps === null) continue
    const range: unknown = (deps as Record<string, unknown>)[name]
    if (typeof range === 'string') return versionOf(range)
  }
  return undefined
}

// '^3.13.1', '~4.1', '3.x', '>=3 <4': the first version in the range, missing parts as 0.
function versionOf(range: string): Version | undefined {
  const match = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range)
  if (!match) return undefined
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)]
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
