import type { Options as AjvOptions, AnySchema, ValidateFunction } from 'ajv'
import { Ajv } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import ajvFormats from 'ajv-formats'
import { readSchemaFolder } from './schema-files.js'

/** A JSON Schema: an object, or `true`/`false`. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown }

/**
 * Where schemas come from: a record of id to schema, an array of schemas that each carry
 * `$id`, or the path of a folder of `*.json`, `*.yaml` and `*.yml` schema files.
 */
export type SchemaSource = { readonly [id: string]: JsonSchema } | readonly JsonSchema[] | string

/**
 * The ajv settings an application may change. Everything else is fixed: strict mode, own
 * properties only (an inherited property never satisfies `required`), and ajv-formats.
 */
export type ValidationOptions = Pick<
  AjvOptions,
  | 'allErrors'
  | 'coerceTypes'
  | 'useDefaults'
  | 'removeAdditional'
  | 'strict'
  | 'formats'
  | 'keywords'
  | 'discriminator'
> & {
  /** JSON Schema dialect: 2020-12 (default, as OpenAPI 3.1) or draft-07. */
  draft?: '2020-12' | '07'
}

/** The compiled schemas an app registered, shared by all the routes that use them. */
export interface SchemaRegistry {
  /** The ids a route may name: every key, `$id` and file name. */
  readonly ids: ReadonlySet<string>
  /** The compiled validator for a schema id or an inline schema; throws if it will not compile. */
  validator(schema: string | JsonSchema): ValidateFunction
}

/** Schemas and annotation keywords another source (an OpenAPI document) adds to the registry. */
export interface RegistryExtras {
  /** Schemas that each carry an absolute `$id`. */
  readonly schemas?: readonly JsonSchema[]
  /** Keywords to accept as annotations (no validation), such as OpenAPI's `example`. */
  readonly keywords?: Iterable<string>
}

/** Load, check and register every schema once, at start-up. Throws naming the bad schema. */
export function createRegistry(
  source: SchemaSource | undefined,
  options: ValidationOptions = {},
  extras: RegistryExtras = {},
): SchemaRegistry {
  const { draft = '2020-12', ...ajvOptions } = options
  const AjvClass = draft === '07' ? Ajv : Ajv2020
  const ajv = new AjvClass({
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    allErrors: false,
    coerceTypes: false,
    useDefaults: false,
    ownProperties: true,
    ...ajvOptions,
  })
  addFormats(ajv)
  for (const keyword of extras.keywords ?? []) {
    if (!ajv.getKeyword(keyword)) ajv.addKeyword(keyword)
  }

  // name -> ajv key: record keys and file names point at the schema's $id when it has one.
  const names = new Map<string, string>()
  const entries = schemaEntries(source)
  for (const schema of extras.schemas ?? []) entries.push({ names: [], key: '', schema })
  for (const entry of entries) {
    const { schema } = entry
    const id = schemaId(schema)
    const key = id ?? entry.key
    const name = entry.names[0] ?? key
    for (const alias of id === undefined ? entry.names : [...entry.names, id]) {
      if (names.has(alias)) throw new Error(`safebody: two schemas are registered as "${alias}"`)
    }
    try {
      ajv.addSchema(schema as AnySchema, id === undefined ? key : undefined)
    } catch (cause) {
      throw new Error(`safebody: schema "${name}" is not a valid JSON Schema: ${message(cause)}`, {
        cause,
      })
    }
    for (const alias of entry.names) names.set(alias, key)
    if (id !== undefined) names.set(id, key)
  }

  // Compile every registered schema now, so a broken one fails at start-up even if no route
  // names it yet.
  for (const [name, key] of names) compile(() => ajv.getSchema(key) as ValidateFunction, name)

  const compiled = new WeakMap<object, ValidateFunction>()
  return {
    ids: new Set(names.keys()),
    validator(schema) {
      if (typeof schema === 'string') {
        const key = names.get(schema)
        if (key === undefined) throw new Error(`safebody: no schema is registered as "${schema}"`)
        return compile(() => ajv.getSchema(key) as ValidateFunction, schema)
      }
      if (typeof schema === 'boolean') return compile(() => ajv.compile(schema), String(schema))
      const cached = compiled.get(schema)
      if (cached) return cached
      const validate = compile(() => ajv.compile(schema), schemaId(schema) ?? 'inline schema')
      compiled.set(schema, validate)
      return validate
    },
  }
}

// ajv-formats is CommonJS with a `default` property; ESM and CJS builds see it differently.
type FormatsPlugin = (ajv: Ajv) => unknown
const addFormats: FormatsPlugin =
  (ajvFormats as unknown as { default?: FormatsPlugin }).default ??
  (ajvFormats as unknown as FormatsPlugin)

function compile(build: () => ValidateFunction, name: string): ValidateFunction {
  try {
    return build()
  } catch (cause) {
    throw new Error(`safebody: schema "${name}" does not compile: ${message(cause)}`, { cause })
  }
}

/** One schema to register: the names routes may use for it, and its ajv key if it has no $id. */
interface SchemaEntry {
  readonly names: readonly string[]
  readonly key: string
  readonly schema: JsonSchema
}

function schemaEntries(source: SchemaSource | undefined): SchemaEntry[] {
  if (source === undefined) return []
  if (typeof source === 'string') {
    // A file without $id is keyed by its file name, so `{ "$ref": "address.json" }` finds it.
    return readSchemaFolder(source).map(({ file, stem, schema }) => ({
      names: [stem, file],
      key: file,
      schema: schema as JsonSchema,
    }))
  }
  if (Array.isArray(source)) {
    return source.map((schema, i) => {
      const id = schemaId(schema)
      if (id === undefined) throw new Error(`safebody: schemas[${i}] has no $id`)
      return { names: [], key: id, schema }
    })
  }
  return Object.entries(source as { readonly [id: string]: JsonSchema }).map(([name, schema]) => ({
    names: [name],
    key: name,
    schema,
  }))
}

function schemaId(schema: JsonSchema): string | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined
  const id = schema.$id
  return typeof id === 'string' ? id : undefined
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
