import { readdirSync, readFileSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { CORE_SCHEMA, load } from 'js-yaml'

/** The file extensions a schema folder is read for; YAML files are parsed with YAML 1.2 core. */
const documentExtensions = new Set(['.json', '.yaml', '.yml'])

/**
 * Read one JSON or YAML document (schema file, OpenAPI document). YAML is loaded with the
 * YAML 1.2 core schema only: plain data, no timestamps, no binary, no merge keys, no custom
 * tags, so a schema file cannot make the loader build anything but JSON-shaped values.
 */
export function readDocument(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new Error(`safebody: cannot read "${path}"`, { cause })
  }
  try {
    return extname(path).toLowerCase() === '.json'
      ? JSON.parse(text)
      : load(text, { schema: CORE_SCHEMA, filename: path })
  } catch (cause) {
    throw new Error(
      `safebody: "${path}" is not valid ${extname(path).slice(1)}: ${message(cause)}`,
      {
        cause,
      },
    )
  }
}

/** How many objects the repeats of a schema file, or of an OpenAPI document's schemas, may add. */
export const REPEATED_OBJECTS = 10_000

/** The error for a schema source whose repeats add more than `REPEATED_OBJECTS` objects. */
export function tooManyRepeats(name: string): Error {
  return new Error(
    `safebody: ${name} repeats more than ${REPEATED_OBJECTS} objects (YAML aliases, or ` +
      'one object used in several places, each compiled as a copy): give a part used ' +
      'many times a name of its own and $ref it',
  )
}

/** The objects of a schema source met so far, and how many more its copies may add. */
export interface Repeats {
  readonly seen: WeakSet<object>
  left: number
}

/** A fresh count for one schema source. */
export function repeatCount(): Repeats {
  return { seen: new WeakSet(), left: REPEATED_OBJECTS }
}

/**
 * A schema may hold one object in several places (a YAML alias). ajv compiles each place as
 * a copy, so aliases of aliases can make a file of a few hundred bytes compile as millions of
 * schemas: minutes of start-up and gigabytes. The copies may add `REPEATED_OBJECTS` objects
 * in all (`repeats`, which several values of one source share); the walk stops there. A loop
 * (an object inside itself) is not counted: ajv refuses it. `copied`: `value` is itself
 * inside a copy.
 */
export function boundRepeats(
  value: unknown,
  name: string,
  repeats: Repeats = repeatCount(),
  copied = false,
): void {
  const inside = new Set<object>()
  const work: Frame[] = [{ value, copied, leave: false }]
  while (work.length > 0) {
    const frame = work.pop() as Frame
    const item = frame.value
    if (typeof item !== 'object' || item === null) continue
    if (frame.leave) {
      inside.delete(item)
      continue
    }
    if (inside.has(item)) continue
    const copy = frame.copied || repeats.seen.has(item)
    if (copy && --repeats.left < 0) throw tooManyRepeats(name)
    repeats.seen.add(item)
    inside.add(item)
    work.push({ value: item, copied: copy, leave: true })
    for (const child of Object.values(item)) work.push({ value: child, copied: copy, leave: false })
  }
}

/** A value to enter (inside a copy or not), or, once its children are done, to leave. */
interface Frame {
  readonly value: unknown
  readonly copied: boolean
  readonly leave: boolean
}

/** One file of a schema folder: its names (file name with and without extension) and content. */
export interface SchemaFile {
  /** `user.json` for `user.json`: the ajv key when the schema has no `$id`, so refs can name it. */
  readonly file: string
  /** `user` for `user.json`: the short name routes use. */
  readonly stem: string
  readonly schema: unknown
}

/** Every `*.json`, `*.yaml` and `*.yml` file directly in `folder`, sorted by name. */
export function readSchemaFolder(folder: string): SchemaFile[] {
  let files: string[]
  try {
    files = readdirSync(folder).filter((f) => documentExtensions.has(extname(f).toLowerCase()))
  } catch (cause) {
    throw new Error(`safebody: cannot read the schema folder "${folder}"`, { cause })
  }
  return files.sort().map((file) => {
    const path = join(folder, file)
    const schema = readDocument(path)
    boundRepeats(schema, `"${path}"`)
    return { file, stem: basename(file, extname(file)), schema }
  })
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
