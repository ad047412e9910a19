import type {
  Options as AjvOptions,
  AnySchema,
  KeywordDefinition,
  ValidateFunction,
  Vocabulary,
} from 'ajv'
import { Ajv } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import ajvFormats from 'ajv-formats'
import type { Rewrites } from './coercion.js'
import { cjsDefault, exactLengths } from './length.js'
import { prototypeClean } from './guard.js'
import {
  type PatternChecker,
  type PatternPolicy,
  patternPolicy,
  type RegExpEngine,
  type UnsafePatterns,
} from './patterns.js'
import { type Dialect, loopPath, SchemaResources } from './loops.js'
import { inheritedTest, presenceNames } from './presence.js'
import { readSchemaFolder } from './schema-files.js'
import { isStandardSchema, standardProps, type StandardSchemaV1 } from './standard.js'

/**
 * A JSON Schema: an object, or `true`/`false`. An object with a `schema` key is a binding
 * (`{ schema, ...settings }`), never a schema, so that a misspelt setting in a binding is a
 * type error rather than a schema keyword.
 */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown; readonly schema?: never }

/** What a binding may validate with: a JSON Schema, or a Standard Schema (zod, valibot, arktype). */
export type BodySchema = JsonSchema | StandardSchemaV1

/**
 * Where schemas come from: a record of id to schema (JSON Schema or Standard Schema), an
 * array of JSON Schemas that each carry `$id`, or the path of a folder of `*.json`, `*.yaml`
 * and `*.yml` schema files.
 */
export type SchemaSource = { readonly [id: string]: BodySchema } | readonly JsonSchema[] | string

/**
 * The ajv settings an application may change. Everything else is fixed: strict mode, own
 * properties only (an inherited property never satisfies `required`; see `ownUnlessPolluted`
 * for how that stays cheap), and ajv-formats.
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
  draft?: Dialect
  /**
   * Patterns (`pattern`, `patternProperties`, `formats` given as regular expressions) whose
   * matching time can grow faster than the string are refused at start-up (`'refuse'`, the
   * default), all accepted (`'allow'`), or accepted when listed here by their source.
   */
  unsafePatterns?: UnsafePatterns
  /**
   * Analyse patterns with recheck (`import { checkSync } from 'recheck'`, an optional peer)
   * instead of the default redos-detector: it accepts linear patterns that can backtrack and
   * names the growth and an attack string of the others.
   */
  patternChecker?: PatternChecker
  /** Run every pattern in this engine instead (RE2: linear time, no analysis needed). */
  regExp?: RegExpEngine
}

/** The compiled schemas an app registered, shared by all the routes that use them. */
export interface SchemaRegistry {
  /** The ids a route may name: every key, `$id` and file name. */
  readonly ids: ReadonlySet<string>
  /** What the validators may write into a body (ajv's `coerceTypes`, `useDefaults`). */
  readonly rewrites: Rewrites
  /** The compiled validator for a schema id or an inline schema; throws if it will not compile. */
  validator(schema: string | JsonSchema): ValidateFunction
  /** The Standard Schema registered as `id`, if the id names one (ajv never sees those). */
  standard(id: string): StandardSchemaV1 | undefined
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
  const { draft = '2020-12', unsafePatterns, patternChecker, regExp, ...ajvOptions } = options
  const patterns = patternPolicy(unsafePatterns, regExp, patternChecker)
  const standard = new Map<string, StandardSchemaV1>()
  const entries: JsonSchemaEntry[] = []
  for (const entry of schemaEntries(source)) {
    if (!isStandardSchema(entry.schema)) entries.push(entry as JsonSchemaEntry)
    else {
      // Checked now, like a JSON Schema, even if no route names it yet.
      standardProps(entry.schema, entry.names[0] ?? entry.key)
      for (const name of entry.names) standard.set(name, entry.schema)
    }
  }
  for (const schema of extras.schemas ?? []) entries.push({ names: [], key: '', schema })
  // Two compilations of the same schemas. `own` checks own properties only, so an inherited
  // property never satisfies `required`; ajv pays a hasOwnProperty call per property for it.
  // `fast` is ajv's default and is exact while Object.prototype holds nothing enumerable (no
  // pollution from elsewhere in the process), none of the names the schema tests for
  // presence is a property of it (defined non-enumerable by another library, or polluted),
  // and no schema names one of its own properties (`required: ["toString"]`); each call
  // picks, so the guarantee is the same.
  const formats = patternsIn(() => patterns.formats(ajvOptions.formats))
  const own = buildAjv(draft, { ...ajvOptions, formats }, extras, patterns, true)
  const fast = buildAjv(draft, { ...ajvOptions, formats }, extras, patterns, false)
  const names = registerAll(own, entries)
  registerAll(fast, entries)
  // `$ref` loops that only some values reach, which the start-up probe (`compile`) misses.
  const resources = new SchemaResources(draft, new Set(Object.keys(own.RULES.all)))
  for (const { schema, key } of entries) resources.add(schema, schemaId(schema) ?? key)
  for (const { schema, key, names } of entries) {
    refuseLoop(resources, schema, names[0] ?? schemaId(schema) ?? key)
  }
  for (const name of standard.keys()) {
    if (names.has(name)) throw new Error(`safebody: two schemas are registered as "${name}"`)
  }
  const registryShadows = entries.some((entry) => namesPrototypeKey(entry.schema))

  // Compile every registered schema now, so a broken one fails at start-up even if no route
  // names it yet.
  for (const [name, key] of names) compile(() => own.getSchema(key) as ValidateFunction, name)

  let everyName: readonly string[] | undefined
  const pick = (build: (ajv: Ajv) => ValidateFunction, name: string, shadows: boolean) => {
    const strict = compile(() => build(own), name)
    if (shadows || registryShadows) return strict
    const validate = compile(() => build(fast), name)
    const names =
      presenceNames([validate.schema], fast) ??
      (everyName ??= presenceNames(entries.map((entry) => entry.schema)) as readonly string[])
    return ownUnlessPolluted(validate, strict, names)
  }
  const compiled = new WeakMap<object, ValidateFunction>()
  const byName = new Map<string, ValidateFunction>()
  return {
    ids: new Set([...names.keys(), ...standard.keys()]),
    standard: (id) => standard.get(id),
    rewrites: {
      coerceTypes: Boolean(ajvOptions.coerceTypes),
      coerceArrays: ajvOptions.coerceTypes === 'array',
      useDefaults: Boolean(ajvOptions.useDefaults),
    },
    validator(schema) {
      if (typeof schema === 'string') {
        const key = names.get(schema)
        if (key === undefined) throw new Error(`safebody: no schema is registered as "${schema}"`)
        let validate = byName.get(key)
        if (validate === undefined) {
          validate = pick((ajv) => ajv.getSchema(key) as ValidateFunction, schema, false)
          byName.set(key, validate)
        }
        return validate
      }
      if (typeof schema === 'boolean') return compile(() => own.compile(schema), String(schema))
      const cached = compiled.get(schema)
      if (cached) return cached
      const name = schemaId(schema) ?? 'inline schema'
      resources.add(schema, '')
      refuseLoop(resources, schema, name)
      const validate = pick((ajv) => ajv.compile(schema), name, namesPrototypeKey(schema))
      compiled.set(schema, validate)
      return validate
    },
  }
}

function buildAjv(
  draft: Dialect,
  ajvOptions: Omit<ValidationOptions, 'draft'>,
  extras: RegistryExtras,
  patterns: PatternPolicy,
  ownProperties: boolean,
): Ajv {
  const AjvClass = draft === '07' ? Ajv : Ajv2020
  // An application's keywords are added once the length limits are replaced, so that they
  // come after ajv's own keywords, as ajv would add them.
  const { keywords, ...rest } = ajvOptions
  const ajv = new AjvClass({
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    allErrors: false,
    coerceTypes: false,
    useDefaults: false,
    ...rest,
    // Each pattern is checked (or built by the chosen engine) as ajv compiles it.
    code: { regExp: patterns.regExp },
    ownProperties,
  })
  exactLengths(ajv)
  if (keywords !== undefined) addKeywords(ajv, keywords)
  addFormats(ajv)
  for (const keyword of extras.keywords ?? []) {
    if (!ajv.getKeyword(keyword)) ajv.addKeyword(keyword)
  }
  return ajv
}

/**
 * The `keywords` option, added as ajv's constructor adds it: a list, or (deprecated in ajv,
 * with its warning) a record of name to definition.
 */
function addKeywords(ajv: Ajv, keywords: Vocabulary | Record<string, KeywordDefinition>): void {
  if (Array.isArray(keywords)) {
    ajv.addVocabulary(keywords)
    return
  }
  ajv.logger.warn('keywords option as map is deprecated, pass array')
  for (const [name, definition] of Object.entries(keywords)) {
    ajv.addKeyword({ ...definition, keyword: definition.keyword ?? name })
  }
}

/** Add every schema to `ajv`; returns name -> ajv key (record keys and file names -> $id). */
function registerAll(ajv: Ajv, entries: readonly JsonSchemaEntry[]): Map<string, string> {
  const names = new Map<string, string>()
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
  return names
}

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).map((k) => JSON.stringify(k))

/** True when the schema's JSON spells a property name of Object.prototype anywhere. */
function namesPrototypeKey(schema: JsonSchema): boolean {
  const text = JSON.stringify(schema) ?? ''
  return prototypeKeys.some((key) => text.includes(key))
}

/**
 * `fast` while Object.prototype has no enumerable property and none of `names` (those the
 * schema tests for presence), else `strict`.
 */
function ownUnlessPolluted(
  fast: ValidateFunction,
  strict: ValidateFunction,
  names: readonly string[],
): ValidateFunction {
  const inherited = inheritedTest(names)
  // `context` carries the parent ajv writes a coerced top-level value into (route.ts).
  const validate = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    const chosen = prototypeClean() && !inherited() ? fast : strict
    const valid = chosen(data, context)
    validate.errors = chosen.errors
    return valid
  }) as ValidateFunction
  return validate
}

// ajv-formats is CommonJS with a `default` property; ESM and CJS builds see it differently.
const addFormats = cjsDefault<(ajv: Ajv) => unknown>(ajvFormats)

function patternsIn<T>(check: () => T): T {
  try {
    return check()
  } catch (cause) {
    throw new Error(`safebody: ${message(cause)}`, { cause })
  }
}

function compile(build: () => ValidateFunction, name: string): ValidateFunction {
  let validate: ValidateFunction
  try {
    validate = build()
  } catch (cause) {
    throw new Error(`safebody: schema "${name}" does not compile: ${message(cause)}`, { cause })
  }
  refuseEndlessLoop(validate, name)
  return validate
}

/**
 * A `$ref` loop that reads nothing of the value on its way round (`A: { allOf: [{ $ref: A }] }`,
 * or A -> B -> A) compiles, then overflows the stack on every value: a 500 on every request.
 * ajv does not look for one, so each validator is run once, at start-up, on one value of each
 * JSON type, and an overflow refuses the schema. A loop that only some values reach (behind
 * `if`, or an `anyOf` branch that fails first) is not found this way.
 */
function refuseEndlessLoop(validate: ValidateFunction, name: string): void {
  // ajv's `$async` schemas answer with a promise, which the validate stage would take for a
  // pass (and whose rejection no one would hear): refused. Async checks belong in a Standard
  // Schema (zod's async refinements), which safebody awaits within the route's timeout.
  if ((validate as { $async?: unknown }).$async === true) {
    throw new Error(
      `safebody: schema "${name}" is an ajv $async schema, which safebody does not run; write async checks in a Standard Schema (zod, valibot), which it awaits`,
    )
  }
  for (const probe of [null, true, 0, '', [], {}]) {
    try {
      validate(probe)
    } catch (cause) {
      if (!(cause instanceof RangeError) || !/call stack/i.test(cause.message)) continue
      throw new Error(
        `safebody: schema "${name}" refers to itself in a loop that reads nothing of the value ($ref, allOf and the like): validating would overflow the stack`,
        { cause },
      )
    }
  }
}

/**
 * Refuse `schema` where it reaches a `$ref` loop that reads nothing of the value on its way
 * round (`SchemaResources`), naming the schemas on the loop.
 */
function refuseLoop(resources: SchemaResources, schema: JsonSchema, name: string): void {
  const loop = resources.loopIn(schema, name)
  if (loop === null) return
  throw new Error(
    `safebody: schema "${name}" refers to itself in a loop that reads nothing of the value ` +
      `(${loopPath(loop)}: $ref, allOf, anyOf, if/then and the like): validating would ` +
      'overflow the stack',
  )
}

/** One schema to register: the names routes may use for it, and its ajv key if it has no $id. */
interface SchemaEntry {
  readonly names: readonly string[]
  readonly key: string
  readonly schema: BodySchema
}
type JsonSchemaEntry = SchemaEntry & { readonly schema: JsonSchema }

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
      if (isStandardSchema(schema)) {
        throw new Error(
          `safebody: schemas[${i}] is a Standard Schema, which has no $id: name it in a record ({ user: schema })`,
        )
      }
      const id = schemaId(schema)
      if (id === undefined) throw new Error(`safebody: schemas[${i}] has no $id`)
      return { names: [], key: id, schema }
    })
  }
  return Object.entries(source as { readonly [id: string]: BodySchema }).map(([name, schema]) => ({
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
