import fastUriModule from 'fast-uri'
import { isRecord, unescapePointer } from './json-pointer.js'
import { oneSchema, schemaLists, schemaRecords } from './keywords.js'
import { cjsDefault } from './length.js'

/**
 * `$ref` loops that read nothing of the value on their way round: `A: { anyOf: [{ type:
 * 'string' }, { $ref: 'A' }] }`, or A -> B -> A through `allOf`, `if`/`then`, `not`. Once a
 * value reaches one, validating it never ends and the stack overflows: a 500 on client input.
 * JSON Schema leaves such schemas undefined (2020-12 core, 9.4.1) and ajv compiles them, so
 * safebody refuses them at start-up. Found here by reading the schemas, not by running them: a
 * loop behind an `if`, an `anyOf` branch or a discriminator is reached by some values only,
 * which a probe at start-up does not send. The check is by structure: a loop no value can go
 * all the way round (each turn asks for another `const`) is refused too.
 */

// ajv resolves `$id` and `$ref` with fast-uri (safebody sets no other `uriResolver`).
const fastUri = cjsDefault<typeof fastUriModule>(fastUriModule)

// Where a schema sits, as ajv walks a schema for its `$id`s and anchors (json-schema-traverse
// with `allKeys`; `prefixItems` too): under `oneSchema`, `schemaLists` and `schemaRecords`.
// Any other key but those holding data (`skipped`) may hold one too, such as an `x-` extension
// or a custom keyword: its `$id`s are indexed (ajv resolves `$ref`s to them), but it is not
// applied to the value, so no loop is looked for from it.
const skipped = new Set([
  'default',
  'enum',
  'const',
  'required',
  'examples',
  'maximum',
  'minimum',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'multipleOf',
  'maxLength',
  'minLength',
  'pattern',
  'format',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
])

// Keywords whose schemas apply to the same value as the schema that holds them
// (`dependencies` is draft-07's `dependentSchemas`; its lists of names are no schemas).
const sameValueOne = ['not', 'if', 'then', 'else'] as const
const sameValueList = ['allOf', 'anyOf', 'oneOf'] as const
const sameValueRecord = ['dependentSchemas', 'dependencies'] as const

/**
 * A schema where a document has it: its base URI (what its `$ref`s resolve against), the
 * document it lies in (what a `$ref` with no URI before its `#` names where the base is none:
 * an inline schema without `$id`), and its JSON pointer there. One object may sit in several
 * documents (a constant two schemas share): each place is its own location.
 */
export interface Location {
  readonly node: Record<string, unknown>
  readonly base: string
  readonly document: object
  readonly pointer: string
}

/** A loop, as the locations of the schemas on it, from the first one to come back to. */
export type SchemaLoop = readonly Location[]

/**
 * The schemas `$ref`s may reach, by URI: each root under its base, and every `$id`, `$anchor`
 * and `$dynamicAnchor` inside one, each resolved against the base of the schema that holds it,
 * as ajv resolves them. A `$dynamicRef` is followed wherever ajv may send it (`sameValue`).
 */
export class SchemaResources {
  private readonly byUri = new Map<string, Location>()
  /** The anchors of documents with no base, by document. */
  private readonly localAnchors = new WeakMap<object, Map<string, Location>>()
  private readonly dynamicAnchors = new Map<string, Location[]>()
  /** The locations a `$ref` named, where ajv may compile a function of their own. */
  private readonly named = new WeakSet<Location>()
  /** Each added document's own location. */
  private readonly roots = new WeakMap<object, Location>()
  /** The locations of the schemas applied to a value in each added document. */
  private readonly applied = new WeakMap<object, Location[]>()
  /** Locations from which no loop can be reached, by schema: their bases or documents. */
  private readonly clear = new WeakMap<object, Set<string | object>>()
  /** A `$dynamicRef` the search met went back along its way: what it found depends on it. */
  private wayUsed = false

  /** Index `schema` and the schemas inside it, `base` being the URI it is known by. */
  add(schema: unknown, base: string): void {
    if (!isRecord(schema)) return
    // ajv takes a root's `$id` as it is (normalised), not resolved against itself.
    const [ownId = '', anchor = ''] =
      typeof schema.$id === 'string' ? splitUri(fastUri.resolve('', schema.$id)) : []
    const resource =
      ownId !== '' && anchor === '' ? ownId : splitUri(base && fastUri.resolve('', base))[0]
    const root: Location = { node: schema, base: resource, document: schema, pointer: '' }
    if (resource !== '') this.byUri.set(resource, root)
    this.roots.set(schema, root)
    const applied: Location[] = []
    this.applied.set(schema, applied)
    // Each schema once a document (as applied, where it sits both ways), so that a schema that
    // contains itself ends the walk.
    const seen = new WeakMap<object, boolean>()
    const pending: Array<[Location, boolean]> = [[root, true]]
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [outer, isApplied] = next
      const { node } = outer
      const was = seen.get(node)
      if (was === true || (was === false && !isApplied)) continue
      seen.set(node, isApplied)
      const location = outer === root ? root : own(outer)
      this.index(location)
      if (isApplied) applied.push(location)
      for (const [key, value] of Object.entries(node)) {
        const at = `${location.pointer}/${escapePointer(key)}`
        const child = (item: unknown, where: string, applies: boolean) => {
          if (isRecord(item)) pending.push([{ ...location, node: item, pointer: where }, applies])
        }
        if (Array.isArray(value)) {
          if (schemaLists.has(key)) value.forEach((item, i) => child(item, `${at}/${i}`, isApplied))
        } else if (schemaRecords.has(key)) {
          // A definition applies where a `$ref` names it, which the search follows.
          const applies = isApplied && key !== '$defs' && key !== 'definitions'
          if (isRecord(value)) {
            for (const [name, item] of Object.entries(value)) {
              child(item, `${at}/${escapePointer(name)}`, applies)
            }
          }
        } else if (oneSchema.has(key)) child(value, at, isApplied)
        else if (!skipped.has(key)) child(value, at, false)
      }
    }
  }

  /** Record the URI the `$id` of the schema at `location` (with its own base) and its anchors give it. */
  private index(location: Location): void {
    const { node } = location
    // draft-07 names an anchor with `$id: '#name'`.
    const idAnchor =
      typeof node.$id === 'string' && node.$id.startsWith('#') ? node.$id.slice(1) : undefined
    if (typeof node.$id === 'string' && idAnchor === undefined && location.base !== '') {
      this.byUri.set(location.base, location)
    }
    for (const anchor of [node.$anchor, node.$dynamicAnchor, idAnchor]) {
      if (typeof anchor !== 'string') continue
      if (location.base !== '') this.byUri.set(`${location.base}#${anchor}`, location)
      else {
        let local = this.localAnchors.get(location.document)
        if (local === undefined) this.localAnchors.set(location.document, (local = new Map()))
        local.set(anchor, location)
      }
    }
    if (typeof node.$dynamicAnchor === 'string') {
      const all = this.dynamicAnchors.get(node.$dynamicAnchor)
      if (all === undefined) this.dynamicAnchors.set(node.$dynamicAnchor, [location])
      else all.push(location)
    }
  }

  /**
   * A same-value loop that `schema`, or any schema inside it that applies to the value or a
   * part of it (a value reaches those through `properties`, `items` and the like), comes to;
   * null when there is none. `schema` must have been added.
   */
  loopIn(schema: unknown): SchemaLoop | null {
    if (!isRecord(schema)) return null
    const starts = this.applied.get(schema)
    if (starts === undefined)
      throw new Error('safebody: a schema looked at for loops was not added')
    // The locations on the current way, and the same keyed by schema and base or document.
    const way: Location[] = []
    const onWay = new WeakMap<object, Set<string | object>>()
    const visit = (at: Location): SchemaLoop | null => {
      const key = at.base === '' ? at.document : at.base
      if (this.clear.get(at.node)?.has(key)) return null
      if (onWay.get(at.node)?.has(key)) {
        const from = way.findIndex((l) => l.node === at.node && (l.base || l.document) === key)
        return way.slice(from)
      }
      way.push(at)
      addTo(onWay, at.node, key)
      const outer = this.wayUsed
      this.wayUsed = false
      let found: SchemaLoop | null = null
      for (const next of this.sameValue(at, way)) {
        found = visit(next)
        if (found !== null) break
      }
      way.pop()
      onWay.get(at.node)?.delete(key)
      // Clear for good only where no `$dynamicRef` below went back along this way.
      if (found === null && !this.wayUsed) addTo(this.clear, at.node, key)
      this.wayUsed ||= outer
      return found
    }
    for (const start of starts) {
      const found = visit(start)
      if (found !== null) return found
    }
    return null
  }

  /**
   * The locations of the schemas that apply to the value the schema at `at` applies to, `way`
   * being the locations the search came through.
   */
  private sameValue(at: Location, way: readonly Location[]): Location[] {
    const { node, pointer } = at
    const next: Location[] = []
    const child = (item: unknown, where: string) => {
      if (isRecord(item)) next.push(own({ ...at, node: item, pointer: where }))
    }
    for (const key of sameValueOne) child(node[key], `${pointer}/${key}`)
    for (const key of sameValueList) {
      const list = node[key]
      if (Array.isArray(list)) list.forEach((item, i) => child(item, `${pointer}/${key}/${i}`))
    }
    for (const key of sameValueRecord) {
      const record = node[key]
      if (!isRecord(record)) continue
      for (const [name, item] of Object.entries(record)) {
        child(item, `${pointer}/${key}/${escapePointer(name)}`)
      }
    }
    if (typeof node.$ref === 'string') next.push(...this.targets(at, node.$ref))
    if (typeof node.$dynamicRef === 'string') {
      // As ajv runs it: where its document (or resource) has an anchor of its name at the
      // root, the outermost schema with that anchor the value's way passed (any of them, to be
      // sure); where it has none, the function ajv is compiling it in, whose root is its
      // document, its resource, or a schema a `$ref` on the way named (each, to be sure).
      const [, name] = splitUri(node.$dynamicRef)
      const resource = at.base === '' ? undefined : this.byUri.get(at.base)
      const roots = [resource, this.roots.get(at.document)].filter((root) => root !== undefined)
      if (roots.some((root) => root.node.$dynamicAnchor === name)) {
        next.push(...(this.dynamicAnchors.get(name) ?? []))
      } else {
        this.wayUsed = true
        next.push(...roots, ...way.filter((location) => this.named.has(location)))
      }
    }
    return next
  }

  /** The location `ref`, in the schema at `at`, names; none for a URI not indexed. */
  private targets(at: Location, ref: string): Location[] {
    const uri = fastUri.resolve(at.base, ref)
    const [resource, fragment] = splitUri(uri)
    const { document } = at
    const root = resource === '' ? this.roots.get(document) : this.byUri.get(resource)
    let found: Location | undefined
    if (fragment === '' || root === undefined) found = root
    else if (!fragment.startsWith('/')) {
      found = resource === '' ? this.localAnchors.get(document)?.get(fragment) : this.byUri.get(uri)
    } else found = this.descend(root, fragment)
    if (found === undefined) return []
    this.named.add(found)
    return [found]
  }

  /** The location at the JSON pointer `path` from `root`, each `$id` on the way its base. */
  private descend(root: Location, path: string): Location | undefined {
    let at = root
    let current: unknown = root.node
    let pointer = root.pointer
    for (const raw of path.slice(1).split('/')) {
      const key = unescapePointer(raw)
      if (key === null || (!isRecord(current) && !Array.isArray(current))) return undefined
      if (!Object.hasOwn(current, key)) return undefined
      current = (current as Record<string, unknown>)[key]
      pointer = `${pointer}/${raw}`
      if (isRecord(current)) {
        at = own({ ...at, node: current, pointer })
        pointer = at.pointer
      }
    }
    return isRecord(current) ? at : undefined
  }
}

/**
 * `at` with the base its own `$id` gives it, where it has one (then its pointer starts again
 * from it); `at` itself otherwise, draft-07's `$id: '#name'` (an anchor) included.
 */
function own(at: Location): Location {
  const { $id } = at.node
  if (typeof $id !== 'string') return at
  const [resource, fragment] = splitUri(fastUri.resolve(at.base, $id))
  return fragment === '' ? { ...at, base: resource, pointer: '' } : at
}

/** `location` as a URI: its base, and `#` and its JSON pointer where it is deeper. */
export function locationUri(location: Location): string {
  const { base, pointer } = location
  return pointer === '' ? base || '#' : `${base}#${pointer}`
}

/** The schemas on `loop`, for a message, then the first again, each as `show` spells it. */
export function loopPath(loop: SchemaLoop, show: (at: Location) => string = locationUri): string {
  return [...loop, loop[0] as Location].map(show).join(' -> ')
}

function addTo(map: WeakMap<object, Set<string | object>>, node: object, key: string | object) {
  let set = map.get(node)
  if (set === undefined) map.set(node, (set = new Set()))
  set.add(key)
}

function splitUri(uri: string): [string, string] {
  const at = uri.indexOf('#')
  return at === -1 ? [uri, ''] : [uri.slice(0, at), uri.slice(at + 1)]
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}
