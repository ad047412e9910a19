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
  return files.sort().map((file) => ({
    file,
    stem: basename(file, extname(file)),
    schema: readDocument(join(folder, file)),
  }))
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
