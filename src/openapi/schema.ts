import type { JsonSchema } from '../core/registry.js'
import { boundRepeats, type Repeats, repeatCount, tooManyRepeats } from '../core/schema-files.js'
import { isRecord, unescapePointer } from '../core/json-pointer.js'
import { oneSchema, schemaLists, schemaRecords } from '../core/keywords.js'
import { pointer } from './document.js'

/**
 * Where `components/schemas` live once registered: each component gets the `$id`
 * `openapi:/components/schemas/<name>`, and every `#/components/schemas/...` reference in
 * the document is rewritten to point there, so ajv resolves them like any `$ref` by id.
 */
const componentBase = 'openapi:/components/schemas/'

/** The `$id` a component schema is registered under. */
export function componentId(name: string): string {
  return componentBase + encodeURIComponent(name)
}

/**
 * The `$id` a discriminating component is registered under a second time, without its
 * discriminator: what the schemas it picks name when they inherit it (`allOf: [{ $ref: Pet }]`).
 */
export function baseId(name: string): string {
  return `${componentId(name)}/without-discriminator`
}

/** OpenAPI's own schema keywords: annotations to ajv (they do not change validation). */
export const openApiKeywords = ['example', 'xml', 'externalDocs', 'discriminator'] as const

/** What translating a document's schemas needs, and collects. */
export interface TranslateContext {
  readonly version: '3.0' | '3.1'
  /** Extension keywords (`x-...`) met in schemas: ajv must accept them as annotations. */
  readonly keywords: Set<string>
  /** The document's `components/schemas`, as written: a `$ref`'s target is read for `readOnly`. */
  readonly components?: Readonly<Record<string, unknown>>
  /** The schemas a discriminator picks among, with its property: never read-only there. */
  readonly discriminated?: WeakMap<object, ReadonlySet<string>>
  /**
   * The schemas a discriminator on a component picks among, with that component: there a
   * `$ref` back to it (`Cat: { allOf: [{ $ref: Pet }] }`) names its base, not its dispatch.
   */
  readonly inherits?: WeakMap<object, ReadonlySet<object>>
  /** The components whose discriminator dispatches, with the `$id` of their base. */
  readonly bases?: ReadonlyMap<object, string>
  /** The dispatch entries `discriminate` added to an `allOf`, to take out of a base. */
  readonly dispatch?: WeakSet<object>
  /** The document's schema objects translated so far, and what their copies may still add. */
  readonly repeats?: Repeats
  /** What to call the document in errors. */
  readonly name?: string
  /**
   * The schemas translated whole (a media type's, a component), by the object in the
   * document: one used by several operations is translated, and compiled, once.
   */
  readonly translated?: WeakMap<object, JsonSchema>
}

// Keywords whose schemas apply to the same value as the schema that holds them.
const inPlace = new Set([
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'dependentSchemas',
  'dependencies',
])

// Keywords whose schemas test the value rather than constrain it (a `not`, an `if`'s
// condition) or test something else (property names, one array item): a read-only schema
// refused there would turn the test around (`not: false` admits anything), so nothing below
// them is read as a request.
const tests = new Set(['not', 'if', 'propertyNames', 'contains'])

/**
 * Where `readOnly: true` refuses the value: everywhere (`false`), nowhere on this schema but
 * everywhere below it (`'node'`: the schema translated whole, an `allOf` branch, which is a
 * part of the same value, not a value sent), nowhere on this schema and what applies to the
 * same value (`'tree'`: a discriminator's property, a `readOnly: false`), or nowhere at all
 * (`'off'`, below a `not` or an `if`: `tests`).
 */
type ReadOnlyFree = false | 'node' | 'tree' | 'off'

/**
 * Translate one schema from the document into what the registry's ajv (JSON Schema
 * 2020-12) validates the same way: references into `components/schemas` rewritten to the
 * components' ids, and for OpenAPI 3.0, `nullable` and the boolean `exclusiveMinimum` /
 * `exclusiveMaximum` rewritten, and `$ref` siblings dropped (3.0 ignores them). `readOnly`
 * is read as a request's (`requestOnly`): a read-only schema below this one refuses its
 * value wherever it applies. Returns a new schema; the document is not changed.
 */
export function translateSchema(schema: unknown, context: TranslateContext, where: string) {
  try {
    const done = isRecord(schema) ? context.translated?.get(schema) : undefined
    if (done !== undefined) return done
    const out = translate(
      schema,
      context,
      where,
      new Set(),
      context.repeats ?? repeatCount(),
      false,
      'node',
    )
    if (isRecord(schema)) context.translated?.set(schema, out)
    return out
  } catch (cause) {
    // Thousands of levels: ajv could not compile it either.
    if (cause instanceof RangeError && /call stack/i.test(cause.message)) {
      throw new Error(`safebody: ${where} is nested too deeply to load`, { cause })
    }
    throw cause
  }
}

function translate(
  schema: unknown,
  context: TranslateContext,
  where: string,
  active: Set<object>,
  repeats: Repeats,
  /** Inside a copy: every object here is one more. */
  copied: boolean,
  free: ReadOnlyFree,
): JsonSchema {
  if (typeof schema === 'boolean') return schema
  if (!isRecord(schema)) throw new Error(`safebody: ${where} is not a schema`)
  if (active.has(schema)) throw new Error(`safebody: ${where} contains itself`)
  const copy = copied || repeats.seen.has(schema)
  if (copy && --repeats.left < 0) throw tooManyRepeats(context.name ?? where)
  repeats.seen.add(schema)
  active.add(schema)
  // What applies to the same value keeps a discriminator's or a `readOnly: false`'s freedom.
  const below = free === 'tree' || schema.readOnly === false ? 'tree' : false
  const sent = context.discriminated?.get(schema)
  const freeAt = (key: string, name?: string): ReadOnlyFree => {
    if (free === 'off' || tests.has(key)) return 'off'
    if (key === 'allOf') return below === 'tree' ? 'tree' : 'node'
    if (inPlace.has(key)) return below
    return key === 'properties' && sent?.has(name as string) ? 'tree' : false
  }
  const sub = (value: unknown, at: string, key: string, name?: string) =>
    translate(value, context, `${where}/${at}`, active, repeats, copy, freeAt(key, name))
  // Built as entries: a member named `__proto__` stays a member, never the prototype.
  const entries: Array<[string, unknown]> = []
  const only$ref = context.version === '3.0' && typeof schema.$ref === 'string'
  for (const [key, value] of Object.entries(schema)) {
    if (only$ref && key !== '$ref') continue
    if (key.startsWith('x-')) context.keywords.add(key)
    if (key === '$ref' && typeof value === 'string') {
      entries.push([key, baseRef(schema, context) ?? rewriteRef(value, where)])
    } else if (schemaLists.has(key) && Array.isArray(value)) {
      entries.push([key, value.map((item, i) => sub(item, `${key}/${i}`, key))])
    } else if (oneSchema.has(key)) entries.push([key, sub(value, key, key)])
    else if (schemaRecords.has(key) && isRecord(value)) {
      const map = Object.entries(value).map(([name, item]): [string, unknown] => [
        name,
        Array.isArray(item) ? item : sub(item, `${key}/${name}`, key, name),
      ])
      entries.push([key, Object.fromEntries(map)])
    } else {
      // Data in a schema (`enum`, `const`, `default`, `example`) is compiled, or copied into
      // the route's schema, as often as it is repeated too.
      if (typeof value === 'object' && value !== null) {
        boundRepeats(value, context.name ?? where, repeats, copy)
      }
      entries.push([key, value])
    }
  }
  active.delete(schema)
  // A read-only schema, or a `$ref` to one, refuses whatever value it applies to in a body
  // (`ownerId: { anyOf: [{ $ref: Id }, { type: 'null' }] }`, `items: { $ref: Id }`).
  if (free === false && isReadOnly(schema, context, new Set())) return false
  const out: Record<string, unknown> = Object.fromEntries(entries)
  // Below a test, `required` keeps its read-only names: left out, the test would change.
  if (free !== 'off') requestOnly(schema, out, context)
  discriminate(schema, out, where, context)
  if (context.version === '3.0') from30(out)
  return out
}

/**
 * The `$id` of a discriminating component's base, for a `$ref` to that component in a schema
 * its discriminator picks (`Cat: { allOf: [{ $ref: Pet }, ...] }`): the base is the component
 * without its dispatch, which would pick Cat again, and again, overflowing the stack.
 */
function baseRef(schema: Record<string, unknown>, context: TranslateContext): string | undefined {
  const target = component(schema, context)
  if (!isRecord(target) || context.inherits?.get(schema)?.has(target) !== true) return undefined
  // A component that is only a `$ref` (`Animal: { $ref: Pet }`) is used elsewhere too, where
  // it must dispatch: it keeps naming Pet whole. A branch that inherits Pet through it then
  // loops, which start-up refuses (loops.ts), rather than lose the dispatch everywhere. A 3.1
  // component with keywords beside its `$ref` (`Cat: { $ref: Pet, properties }`) composes Pet.
  if (isAlias(schema, context)) return undefined
  return context.bases?.get(target)
}

// Keywords beside a `$ref` that do not change what it validates.
const annotations = new Set(['$ref', 'description', 'title', 'deprecated', 'example', 'examples'])

/** A component that is a `$ref` and nothing more (3.0 ignores what is beside a `$ref`). */
function isAlias(schema: Record<string, unknown>, context: TranslateContext): boolean {
  if (!isComponentRoot(schema, context)) return false
  if (context.version === '3.0') return true
  return Object.keys(schema).every((key) => annotations.has(key) || key.startsWith('x-'))
}

const componentRoots = new WeakMap<object, WeakSet<object>>()

/** True for a schema that is a component itself (`components.schemas.X`), not a part of one. */
function isComponentRoot(schema: object, context: TranslateContext): boolean {
  const { components } = context
  if (components === undefined) return false
  let roots = componentRoots.get(components)
  if (roots === undefined) {
    roots = new WeakSet(Object.values(components).filter(isRecord))
    componentRoots.set(components, roots)
  }
  return roots.has(schema)
}

/**
 * OpenAPI's `discriminator` beside `oneOf` or `anyOf`, read as express-openapi-validator reads
 * it: the named property's value picks the one schema the body is held to, by `mapping` or
 * by a branch's component name, where `oneOf` alone refused a body that two branches admit
 * (a Cat that the Dog schema, without `additionalProperties: false`, admits too). A value no
 * mapping names is refused, as is a body without the property. Branches that are not
 * `$ref`s to components, with no `mapping` either, are left as written.
 */
function discriminate(
  schema: Record<string, unknown>,
  out: Record<string, unknown>,
  where: string,
  context: TranslateContext,
): void {
  const found = discriminatorPicks(schema, where)
  if (found === null) return
  const { list, property, picks } = found
  delete out[list]
  delete out.discriminator
  const is = (value: string) => ({ type: 'object', properties: { [property]: { const: value } } })
  const dispatch = [
    {
      type: 'object',
      required: [property],
      properties: { [property]: { enum: [...picks.keys()] } },
    },
    ...[...picks].map(([value, $ref]) => ({ if: is(value), then: { $ref } })),
  ]
  for (const entry of dispatch) context.dispatch?.add(entry)
  out.allOf = [...(Array.isArray(out.allOf) ? out.allOf : []), ...dispatch]
}

/**
 * What a discriminator beside `oneOf` or `anyOf` picks: value -> the schema's id (or `$ref`),
 * by `mapping`, then by a branch's component name; null when it picks nothing this way.
 */
export function discriminatorPicks(
  schema: Record<string, unknown>,
  where: string,
): { list: 'oneOf' | 'anyOf'; property: string; picks: Map<string, string> } | null {
  const { discriminator } = schema
  const list = Array.isArray(schema.oneOf) ? 'oneOf' : Array.isArray(schema.anyOf) ? 'anyOf' : null
  if (!isRecord(discriminator) || typeof discriminator.propertyName !== 'string' || !list) {
    return null
  }
  const picks = new Map<string, string>()
  for (const [value, target] of Object.entries(
    isRecord(discriminator.mapping) ? discriminator.mapping : {},
  )) {
    if (typeof target !== 'string') {
      throw new Error(`safebody: ${where}: discriminator mapping "${value}" is not a $ref or name`)
    }
    picks.set(value, /[#/]/.test(target) ? rewriteRef(target, where) : componentId(target))
  }
  for (const branch of schema[list] as unknown[]) {
    const ref = isRecord(branch) ? branch.$ref : undefined
    const name = typeof ref === 'string' ? componentName(ref) : null
    if (name !== null && !picks.has(name)) picks.set(name, rewriteRef(ref as string, where))
  }
  return picks.size === 0 ? null : { list, property: discriminator.propertyName, picks }
}

/** `User` for `#/components/schemas/User`; null for any other reference. */
function componentName(ref: string): string | null {
  const parts = ref.split('/')
  if (parts.length !== 4 || parts[0] !== '#' || parts[1] !== 'components') return null
  return parts[2] === 'schemas' ? unescapePointer(parts[3] as string) : null
}

/**
 * `readOnly` read as OpenAPI reads it in a request (3.0.3 and 3.1 alike, as
 * express-openapi-validator does): a read-only value "SHOULD NOT be sent", and `required`
 * does not hold for a read-only property. `translate` refuses a read-only schema wherever it
 * applies (it becomes `false`: a 422 at its path); here `required` leaves out the read-only
 * properties of the schema and of its `allOf` branches, in the schema and in its inline
 * `allOf` branches at any depth (`allOf: [{ $ref: Base }, { required: [id, name] }]`).
 * `readOnly` counts on the property's schema (a `readOnly: false` there wins), on the
 * component its `$ref` names, or on an `allOf` branch of it. In the schemas a discriminator
 * picks among, its property is never read-only: it must be sent.
 */
function requestOnly(
  schema: Record<string, unknown>,
  out: Record<string, unknown>,
  context: TranslateContext,
): void {
  const all = readOnlyNames(schema, context, new Set())
  if (all.size === 0) return
  // `out` and its inline branches are this translation's own copies (`translate`), and hold
  // no cycle (it refuses a schema that contains itself): changed in place.
  const unrequire = (target: Record<string, unknown>): void => {
    if (Array.isArray(target.required)) {
      target.required = target.required.filter((name: unknown) => !all.has(name as string))
    }
    for (const branch of Array.isArray(target.allOf) ? target.allOf : []) {
      if (isRecord(branch) && branch.$ref === undefined) unrequire(branch)
    }
  }
  unrequire(out)
}

/**
 * The read-only properties `schema` declares, and those of what it composes: its `allOf`
 * branches and the schema its `$ref` names (in 3.1, beside its own).
 */
function readOnlyNames(
  schema: unknown,
  context: TranslateContext,
  seen: Set<unknown>,
): Set<string> {
  const names = new Set<string>()
  if (!isRecord(schema) || seen.has(schema)) return names
  seen.add(schema)
  const { properties, allOf } = schema
  const sent = context.discriminated?.get(schema)
  if (isRecord(properties)) {
    for (const [name, property] of Object.entries(properties)) {
      if (!sent?.has(name) && isReadOnly(property, context, new Set())) names.add(name)
    }
  }
  for (const part of [...(Array.isArray(allOf) ? allOf : []), component(schema, context)]) {
    for (const name of readOnlyNames(part, context, seen)) names.add(name)
  }
  return names
}

function isReadOnly(schema: unknown, context: TranslateContext, seen: Set<unknown>): boolean {
  if (!isRecord(schema) || seen.has(schema)) return false
  seen.add(schema)
  if (typeof schema.readOnly === 'boolean') return schema.readOnly
  if (typeof schema.$ref === 'string') return isReadOnly(component(schema, context), context, seen)
  return Array.isArray(schema.allOf) && schema.allOf.some((b) => isReadOnly(b, context, seen))
}

/**
 * The schemas a discriminator picks among (its `oneOf`/`anyOf` branches, its `mapping`'s, and
 * what each composes: `allOf` bases, `$ref` targets), with the property it reads: there that
 * property must be sent, whatever `readOnly` says. `inherits`, if given, gets each of those
 * schemas with the schemas whose discriminator picks it.
 */
export function discriminatedSchemas(
  document: unknown,
  context: Pick<TranslateContext, 'components'>,
  inherits?: WeakMap<object, Set<object>>,
): WeakMap<object, Set<string>> {
  const found = new WeakMap<object, Set<string>>()
  const cover = (schema: unknown, owner: object, property: string, seen: Set<unknown>): void => {
    if (!isRecord(schema) || seen.has(schema)) return
    seen.add(schema)
    const names = found.get(schema) ?? new Set<string>()
    found.set(schema, names.add(property))
    inherits?.set(schema, (inherits.get(schema) ?? new Set()).add(owner))
    for (const part of [
      ...(Array.isArray(schema.allOf) ? schema.allOf : []),
      component(schema, context),
    ]) {
      cover(part, owner, property, seen)
    }
  }
  const met = new WeakSet<object>()
  const work: unknown[] = [document]
  while (work.length > 0) {
    const value = work.pop()
    if (typeof value !== 'object' || value === null || met.has(value)) continue
    met.add(value)
    for (const child of Object.values(value)) work.push(child)
    const { discriminator, oneOf, anyOf } = value as Record<string, unknown>
    if (!isRecord(discriminator) || typeof discriminator.propertyName !== 'string') continue
    const property = discriminator.propertyName
    const mapped = Object.values(isRecord(discriminator.mapping) ? discriminator.mapping : {})
    for (const branch of [
      ...(Array.isArray(oneOf) ? oneOf : []),
      ...(Array.isArray(anyOf) ? anyOf : []),
      ...mapped.map((target) =>
        typeof target !== 'string' || /[#/]/.test(target)
          ? { $ref: target }
          : { $ref: `#/components/schemas/${target}` },
      ),
    ]) {
      cover(component(branch, context), value, property, new Set())
    }
  }
  return found
}

/**
 * What a `{ $ref: '#/components/schemas/X' }` names in the document (a component, or a part
 * of one: `#/components/schemas/X/properties/id`), else the schema itself.
 */
function component(schema: unknown, context: Pick<TranslateContext, 'components'>): unknown {
  const ref = isRecord(schema) ? schema.$ref : undefined
  const { components } = context
  if (typeof ref !== 'string' || components === undefined) return schema
  if (!ref.startsWith('#/components/schemas/')) return undefined
  return pointer({ components: { schemas: components } }, ref)
}

/** OpenAPI 3.0 keywords whose meaning JSON Schema 2020-12 spells differently. */
function from30(schema: Record<string, unknown>): void {
  // 3.0.3: `nullable: true` adds "null" to `type`, only when `type` is given in the same
  // schema; other keywords (enum, a $ref) keep refusing null.
  if (schema.nullable === true && typeof schema.type === 'string') {
    schema.type = [schema.type, 'null']
  }
  delete schema.nullable
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof schema[flag] !== 'boolean') continue
    if (schema[flag] === true && typeof schema[bound] === 'number') {
      schema[flag] = schema[bound]
      delete schema[bound]
    } else delete schema[flag]
  }
}

/**
 * `#/components/schemas/User/properties/name` -> `openapi:/components/schemas/User#/properties/name`.
 * Other references stay as written: an absolute `$id` resolves against the `schemas` option.
 * A local reference anywhere else in the document is refused: it is not a schema ajv knows.
 */
function rewriteRef(ref: string, where: string): string {
  if (!ref.startsWith('#')) return ref
  const parts = ref.slice(1).split('/')
  if (parts[0] !== '' || parts[1] !== 'components' || parts[2] !== 'schemas' || !parts[3]) {
    throw new Error(
      `safebody: ${where}: $ref "${ref}" must point into #/components/schemas or at a registered $id`,
    )
  }
  const rest = parts.slice(4)
  const name = unescapePointer(parts[3])
  if (name === null) {
    throw new Error(`safebody: ${where}: $ref "${ref}" has a malformed percent-escape`)
  }
  return componentId(name) + (rest.length > 0 ? `#/${rest.join('/')}` : '')
}
