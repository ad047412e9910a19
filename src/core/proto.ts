import { readdirSync, statSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import protobuf, { type Type } from 'protobufjs'

/** Where protobuf message types come from: a folder of `.proto` files, or a list of files. */
export type ProtoSource = string | readonly string[]

/** The loaded `.proto` files: look a message type up by its full name. */
export interface ProtoRegistry {
  /** The message type `name` (`'demo.User'`), or a start-up error naming what is wrong. */
  messageType(name: string): Type
}

/**
 * Load and resolve every `.proto` file once, at start-up. Imports resolve against the folder
 * (or each file's own folder). Throws naming the source when a file does not parse, an
 * import is missing, or a type does not resolve.
 */
export function loadProto(source: ProtoSource): ProtoRegistry {
  const { files, roots } = protoFiles(source)
  const root = new protobuf.Root()
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target)) return target
    for (const dir of roots) {
      const candidate = join(dir, target)
      if (exists(candidate)) return candidate
    }
    return protobuf.util.path.resolve(origin, target)
  }
  try {
    root.loadSync(files as string[], { keepCase: true })
    root.resolveAll()
  } catch (cause) {
    throw new Error(
      `safebody: cannot load the .proto files from ${describe(source)}: ${message(cause)}`,
      {
        cause,
      },
    )
  }
  return {
    messageType(name) {
      let found: protobuf.ReflectionObject | null = null
      try {
        found = root.lookup(name.replace(/^\./, ''))
      } catch {
        found = null
      }
      if (!(found instanceof protobuf.Type)) {
        throw new Error(`safebody: no protobuf message type "${name}" in ${describe(source)}`)
      }
      return found
    },
  }
}

function protoFiles(source: ProtoSource): { files: string[]; roots: string[] } {
  if (typeof source === 'string') {
    let names: string[]
    try {
      names = readdirSync(source).filter((f) => f.endsWith('.proto'))
    } catch (cause) {
      throw new Error(`safebody: cannot read the proto folder "${source}"`, { cause })
    }
    if (names.length === 0)
      throw new Error(`safebody: the proto folder "${source}" has no .proto files`)
    return { files: names.sort().map((f) => resolve(source, f)), roots: [resolve(source)] }
  }
  if (
    !Array.isArray(source) ||
    source.length === 0 ||
    !source.every((f) => typeof f === 'string')
  ) {
    throw new TypeError('safebody: proto must be a folder or a non-empty list of .proto paths')
  }
  const files = source.map((f) => resolve(f))
  for (const file of files) {
    if (!exists(file)) throw new Error(`safebody: cannot read the .proto file "${file}"`)
  }
  return { files, roots: [...new Set(files.map((f) => resolve(f, '..')))] }
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function describe(source: ProtoSource): string {
  return typeof source === 'string' ? `"${source}"` : source.map((f) => `"${f}"`).join(', ')
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
