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
// with `allKeys`), and under `prefixItems`, which it does not walk (a URI claimed there and
// elsewhere is followed to both: `byUri`): under `oneSchema`, `schemaLists` and `schemaRecords`.
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
 * The keywords holding schemas that ajv does not apply under each dialect (its vocabularies):
 * `contentSchema` is an annotation in both; 2020-12 has no `additionalItems`, draft-07 no
 * `prefixItems`, `dependentSchemas` or `unevaluated*`, which with `strict: false` it ignores.
 */
const notApplied = {
  '2020-12': new Set(['additionalItems', 'contentSchema']),
  '07': new Set([
    'prefixItems',
    'dependentSchemas',
    'unevaluatedItems',
    'unevaluatedProperties',
    'contentSchema',
  ]),
} as const

/** The keywords whose schemas apply to the same value, and to parts of it, under a dialect. */
interface Applicators {
  readonly sameValue: KeywordSets
  readonly parts: KeywordSets
}

interface KeywordSets {
  readonly one: readonly string[]
  readonly lists: readonly string[]
  readonly records: readonly string[]
}

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

/** A JSON Schema dialect, as ajv runs it: 2020-12 (Ajv2020) or draft-07 (Ajv). */
export type Dialect = '2020-12' | '07'

/** A loop, as the locations of the schemas on it, from the first one to come back to. */
export type SchemaLoop = readonly Location[]

/**
 * The schemas `$ref`s may reach, by URI: each root under its base, and every `$id`, `$anchor`
 * and `$dynamicAnchor` inside one, each resolved against the base of the schema that holds it,
 * as ajv resolves them. A `$dynamicRef` is followed wherever ajv may send it (`sameValue`).
 */
export class SchemaResources {
  /**
   * Every schema known by each URI: one URI may name several, where ajv tells them apart and
   * the check does not (two `$id`s fast-uri normalises alike, an `$id` ajv does not index), so
   * a `$ref` to it is followed to each.
   */
  private readonly byUri = new Map<string, Location[]>()
  /** The anchors of documents with no base, by document (each schema of a name: `byUri`). */
  private readonly localAnchors = new WeakMap<object, Map<string, Location[]>>()
  private readonly dynamicAnchors = new Map<string, Location[]>()
  /** The names of the `$dynamicAnchor`s anywhere in each document. */
  private readonly documentAnchors = new WeakMap<object, Set<string>>()
  /**
   * The places (a schema, by base or document) a `$ref` names, where ajv may compile a
   * function of their own: every `$ref` in the documents added, resolved before a search
   * (`refs`, then `nameTargets`), so that none depends on which search met it first.
   */
  private readonly named = new WeakMap<object, Set<string>>()
  private refs: Location[] = []
  /** Each added document's own location. */
  private readonly roots = new WeakMap<object, Location>()
  /** Where the walk of each document placed each schema in it, by base (`locate`). */
  private readonly placed = new WeakMap<object, WeakMap<object, Map<string, Location>>>()
  /**
   * The searches begun from each place (a schema, by its base or document): the dynamic
   * anchors each took as set (`enqueue`).
   */
  private started = new WeakMap<object, Map<string, Array<readonly string[]>>>()
  /**
   * Places from which no loop can be reached, by schema: their bases or documents, and the
   * dynamic anchors set when the value got there (`mark`).
   */
  private clear = new WeakMap<object, Set<string>>()
  /**
   * A document added since the last search may send a place searched before elsewhere: it has
   * a dynamic anchor some `$dynamicRef` asks for (any `$dynamicRef` of its name may go to it),
   * or it names a URI that was named, or looked for, before. The searches' caches are then
   * dropped.
   */
  private stale = false
  /** The URIs a `$ref` looked for and did not find. */
  private readonly missed = new Set<string>()
  /**
   * The dynamic anchor names indexed, and asked for, since the last search: a cached place
   * leads elsewhere only where a new anchor has a name a `$dynamicRef` searched before asks for
   * (one asked for only since then is in a new document, which no cached place leads to but
   * through a new URI or such an anchor).
   */
  private readonly newAnchors = new Set<string>()
  private readonly newAsked = new Set<string>()
  private readonly documentIds = new WeakMap<object, number>()
  private documents = 0
  /** A `$dynamicRef` the search met went back along its way: what it found depends on it. */
  private wayUsed = false
  /** The anchor names some `$dynamicRef` or `$recursiveRef` asks for: only they are tracked. */
  private readonly asked = new Set<string>()
  /** Whether the dialect has `$dynamicRef` and `$recursiveRef`. */
  private readonly dynamic: boolean
  private readonly applicators: Applicators

  /**
   * `dialect`: the JSON Schema dialect, as ajv runs it: 2020-12 (Ajv2020) or draft-07, whose
   * ajv ignores `$dynamicRef` and `$recursiveRef` as unknown keywords, and applies only the
   * keywords it knows (`notApplied`).
   */
  constructor(
    dialect: Dialect = '2020-12',
    /**
     * The keywords ajv runs code for (its `RULES.all`): a `then` or `else` with none of them
     * is always valid, and ajv skips its `if`. Without them, any keyword but an annotation is
     * taken as one.
     */
    private readonly rules?: ReadonlySet<string>,
  ) {
    this.dynamic = dialect === '2020-12'
    const skip = notApplied[dialect]
    const known = (keys: readonly string[]) => keys.filter((key) => !skip.has(key))
    this.applicators = {
      sameValue: {
        one: known(sameValueOne),
        lists: known(sameValueList),
        records: known(sameValueRecord),
      },
      parts: { one: known(partOne), lists: known(partList), records: known(partRecord) },
    }
  }

  /** Another schema the URI names (`byUri`). */
  private name(uri: string, location: Location): void {
    if (this.byUri.has(uri) || this.missed.has(uri)) this.stale = true
    addLocation(this.byUri, uri, location)
  }

  /** The anchor a schema sets that some `$dynamicRef` asks for. */
  private askedAnchorOf(node: Record<string, unknown>): string | undefined {
    const anchor = this.anchorOf(node)
    return anchor !== undefined && this.asked.has(anchor) ? anchor : undefined
  }

  /** The dynamic anchor a schema sets, where the dialect has them. */
  private anchorOf(node: Record<string, unknown>): string | undefined {
    return this.dynamic ? dynamicAnchorOf(node) : undefined
  }

  /** Index `schema` and the schemas inside it, `base` being the URI it is known by. */
  add(schema: unknown, base: string): void {
    if (!isRecord(schema)) return
    // ajv takes a root's `$id` as it is (normalised), not resolved against itself.
    const [ownId = ''] = typeof schema.$id === 'string' ? splitUri(resolveUri('', schema.$id)) : []
    // draft-07's `$id: 'https://x/o#foo'` too: its `$ref`s are read against `https://x/o`.
    const resource = ownId !== '' ? ownId : splitUri(base && resolveUri('', base))[0]
    const root: Location = { node: schema, base: resource, document: schema, pointer: '' }
    if (resource !== '') this.name(resource, root)
    this.roots.set(schema, root)
    // Each schema once a document and base (again as applied, where it sits both ways).
    const seen = new WeakMap<object, Map<string, boolean>>()
    const placed = new WeakMap<object, Map<string, Location>>()
    this.placed.set(schema, placed)
    // Each entry with the schemas it lies in, to tell a schema that contains itself.
    const pending: Array<[Location, boolean, Within | null]> = [[root, true, null]]
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [outer, isApplied, within] = next
      const { node } = outer
      const location = outer === root ? root : own(outer)
      let bases = seen.get(node)
      if (bases === undefined) seen.set(node, (bases = new Map()))
      const was = bases.get(location.base)
      if (was === true || (was === false && !isApplied)) continue
      // One object in several resources of the document is walked in each, with its base; one
      // inside itself is not walked again, or a relative `$id` would give it a new base each turn.
      if (was === undefined && bases.size > 0 && inside(within, node)) continue
      bases.set(location.base, isApplied)
      const here: Within = { node, up: within }
      let places = placed.get(node)
      if (places === undefined) placed.set(node, (places = new Map()))
      places.set(location.base, location)
      this.index(location)
      if (typeof node.$ref === 'string') this.refs.push(location)
      const dynamicRef = this.dynamicRefOf(node)
      const asks = dynamicRef === undefined ? undefined : splitUri(dynamicRef)[1]
      if (asks !== undefined && !this.asked.has(asks)) {
        this.asked.add(asks)
        this.newAsked.add(asks)
      }
      for (const [key, value] of Object.entries(node)) {
        const at = `${location.pointer}/${escapePointer(key)}`
        const child = (item: unknown, where: string, applies: boolean) => {
          if (isRecord(item)) {
            pending.push([{ ...location, node: item, pointer: where }, applies, here])
          }
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
      // An `$id` with a fragment (draft-07: `https://x/r#foo`) names this schema by the
      // whole URI, as ajv registers it, not the resource it is in.
      const [, fragment] = splitUri(resolveUri(location.base, node.$id))
      this.name(fragment === '' ? location.base : `${location.base}#${fragment}`, location)
    }
    for (const anchor of [node.$anchor, node.$dynamicAnchor, idAnchor]) {
      if (typeof anchor !== 'string') continue
      if (location.base !== '') this.name(`${location.base}#${anchor}`, location)
      else {
        let local = this.localAnchors.get(location.document)
        if (local === undefined) this.localAnchors.set(location.document, (local = new Map()))
        addLocation(local, anchor, location)
      }
    }
    const dynamic = this.anchorOf(node)
    if (dynamic !== undefined) {
      let names = this.documentAnchors.get(location.document)
      if (names === undefined) this.documentAnchors.set(location.document, (names = new Set()))
      names.add(dynamic)
      this.newAnchors.add(dynamic)
      const all = this.dynamicAnchors.get(dynamic)
      if (all === undefined) this.dynamicAnchors.set(dynamic, [location])
      else all.push(location)
    }
  }

  /**
   * A same-value loop that a value validated by `schema` comes to: from `schema`, or from any
   * schema applied to a part of the value (through `properties`, `items` and the like), in
   * `schema` or in a schema a `$ref` on the way names; null when there is none. `schema` must
   * have been added; `name` names it in an error. Each schema is searched from anew where the
   * value moves to a part of itself, with the `$dynamicAnchor`s set by then (`sameValue` reads
   * them).
   */
  loopIn(schema: unknown, name: string): SchemaLoop | null {
    if (!isRecord(schema)) return null
    const root = this.roots.get(schema)
    if (root === undefined) throw new Error('safebody: a schema looked at for loops was not added')
    this.nameTargets()
    if (
      this.stale ||
      [...this.newAnchors].some((name) => this.asked.has(name) && !this.newAsked.has(name))
    ) {
      this.clear = new WeakMap()
      this.started = new WeakMap()
    }
    this.stale = false
    this.newAnchors.clear()
    this.newAsked.clear()
    const queue: Start[] = []
    this.enqueue(queue, root, [])
    try {
      for (let start = queue.pop(); start !== undefined; start = queue.pop()) {
        const found = this.search(start, queue)
        if (found !== null) return found
      }
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      // The search goes down same-value chains by recursion: thousands of schemas deep.
      throw new Error(
        `safebody: schema "${name}" applies schemas to one value in a chain of $ref, allOf, ` +
          'anyOf and the like too long to check for loops (ajv cannot compile one that long ' +
          'either)',
        { cause: err },
      )
    }
    return null
  }

  /** Resolve the `$ref`s of the documents added since the last search (`named`). */
  private nameTargets(): void {
    const refs = this.refs
    this.refs = []
    for (const at of refs) this.targets(at, at.node.$ref as string)
  }

  /** Search from `start` down the schemas applied to its value; new starts go on `queue`. */
  private search(start: Start, queue: Start[]): SchemaLoop | null {
    // The locations on the current way, and the same keyed by schema and base or document;
    // the dynamic anchors set on the way, by name (how many schemas on the way set each).
    const way: Location[] = []
    const onWay = new WeakMap<object, Set<string>>()
    const setOnWay = new Map<string, number>()
    const anchorsSet = (): readonly string[] =>
      setOnWay.size === 0
        ? start.anchors
        : [...new Set([...start.anchors, ...setOnWay.keys()])].sort()
    const isSet = (name: string) => setOnWay.has(name) || start.anchors.includes(name)
    const visit = (at: Location): SchemaLoop | null => {
      const key = this.keyOf(at)
      // Clear under the same anchors, not others: the parts of the value searched from here
      // were searched with them.
      const marked = mark(key, anchorsSet())
      if (this.clear.get(at.node)?.has(marked)) return null
      if (onWay.get(at.node)?.has(key)) {
        return way.slice(way.findIndex((l) => l.node === at.node && this.keyOf(l) === key))
      }
      way.push(at)
      addTo(onWay, at.node, key)
      // An anchor no `$dynamicRef` asks for changes nothing: not tracked, so that a document
      // with many such names is not searched again for each set of them.
      const anchor = this.askedAnchorOf(at.node)
      if (anchor !== undefined) setOnWay.set(anchor, (setOnWay.get(anchor) ?? 0) + 1)
      // The parts of the value the schema here reads into are searched from anew.
      const after = anchorsSet()
      for (const part of this.partsOf(at)) this.enqueue(queue, part, after)
      const outer = this.wayUsed
      this.wayUsed = false
      let found: SchemaLoop | null = null
      for (const next of this.sameValue(at, way, isSet)) {
        found = visit(next)
        if (found !== null) break
      }
      way.pop()
      onWay.get(at.node)?.delete(key)
      if (anchor !== undefined) {
        const count = setOnWay.get(anchor) as number
        if (count === 1) setOnWay.delete(anchor)
        else setOnWay.set(anchor, count - 1)
      }
      // Clear for good only where no `$dynamicRef` was met below: where it goes depends on the
      // way and on the anchors set.
      if (found === null && !this.wayUsed) addTo(this.clear, at.node, marked)
      this.wayUsed ||= outer
      return found
    }
    return visit(start.at)
  }

  /**
   * Search from `at`, with `anchors` set, unless a search from it took fewer as set: with
   * fewer set, a `$dynamicRef` may go to more places, so that search found whatever this one
   * would. After a few searches of one place, it is searched once more with none set, which
   * covers every later one (each schema of a document with several anchor names could be
   * reached with each subset of them).
   */
  private enqueue(queue: Start[], at: Location, anchors: readonly string[]): void {
    const key = this.keyOf(at)
    let byKey = this.started.get(at.node)
    if (byKey === undefined) this.started.set(at.node, (byKey = new Map()))
    let tried = byKey.get(key)
    if (tried === undefined) byKey.set(key, (tried = []))
    if (tried.some((done) => done.every((name) => anchors.includes(name)))) return
    const taken = tried.length === SEARCHES ? [] : anchors
    tried.push(taken)
    queue.push({ at, anchors: taken })
  }

  /** What tells apart the places of one schema object: its base, or its document. */
  private keyOf(at: Location): string {
    if (at.base !== '') return at.base
    let id = this.documentIds.get(at.document)
    if (id === undefined) this.documentIds.set(at.document, (id = ++this.documents))
    return `#document-${id}`
  }

  /**
   * The locations of the schemas that apply to the value the schema at `at` applies to, `way`
   * being the locations the search came through and `isSet` telling whether a `$dynamicAnchor`
   * of a name is set for this value: one on the way has set it, or one before the value got here.
   */
  private sameValue(
    at: Location,
    way: readonly Location[],
    isSet: (name: string) => boolean,
  ): Location[] {
    const { node } = at
    const next = this.under(at, this.applicators.sameValue)
    if (typeof node.$ref === 'string') next.push(...this.targets(at, node.$ref))
    const dynamicRef = this.dynamicRefOf(node)
    if (dynamicRef !== undefined) {
      // As ajv runs it (its dynamicAnchor.ts and dynamicRef.ts): where the document has a
      // `$dynamicAnchor` of its name, the function the outermost schema with that anchor the
      // value passed holds (any of them, to be sure); where none has been passed, or ajv has
      // not flagged the name, the function ajv is compiling it in, whose root is its document,
      // its resource, or a schema compiled apart on the way: one a `$ref` named, one with a
      // `$dynamicAnchor`, a root (each, to be sure).
      const [, name] = splitUri(dynamicRef)
      const resources = at.base === '' ? [] : (this.byUri.get(at.base) ?? [])
      const document = this.roots.get(at.document)
      const roots = [...resources, document].filter((root) => root !== undefined)
      // ajv flags the anchor's name when it compiles one of the document's `$dynamicAnchor`s:
      // one at its root is compiled first; one elsewhere (a nested resource's too) only if
      // something applies it first (a placeholder in `$defs` never is).
      const flagged = document !== undefined && this.anchorOf(document.node) === name
      if (this.documentAnchors.get(at.document)?.has(name) === true) {
        for (const anchor of this.dynamicAnchors.get(name) ?? []) {
          next.push(anchor)
          // Away from its document's root, ajv compiles the anchor's function with the
          // document root's base (dynamicAnchor.ts), whatever `$id` it lies under: its `$ref`s
          // may be read against either.
          const base = this.roots.get(anchor.document)?.base
          if (base !== undefined && anchor.base !== base) {
            next.push({ ...anchor, base })
          }
        }
      }
      if (!flagged || !isSet(name)) {
        this.wayUsed = true
        next.push(...roots, ...way.filter((location) => this.compiledApart(location)))
      }
    }
    return next
  }

  /**
   * The location of `item`, a schema in the one at `at`, at `where` from it: where the walk of
   * its document placed it with the base the way gives it, or where it placed it first, so that
   * a schema that contains itself is one of a few places however deep the way in (its relative
   * `$id` would give it a new base each turn); by the way for one the walk did not place.
   */
  private locate(at: Location, item: Record<string, unknown>, where: string): Location {
    const derived = own({ ...at, node: item, pointer: where })
    const places = this.placed.get(at.document)?.get(item)
    if (places === undefined) return derived
    const placedHere = places.get(derived.base)
    if (placedHere !== undefined) return placedHere
    // Only an `$id` makes a base: one the walk did not place it with (the way round a schema
    // that contains itself) is not followed.
    return typeof item.$id === 'string' ? (places.values().next().value as Location) : derived
  }

  /**
   * A schema that is not always valid, as ajv's `if` looks for a `then` or `else`, and its
   * `anyOf` for a branch (its `alwaysValidSchema`): `false`, or one with a keyword ajv runs
   * code for.
   */
  private hasSchema(schema: unknown): boolean {
    if (typeof schema === 'boolean') return !schema
    if (!isRecord(schema)) return false
    const { rules } = this
    return Object.keys(schema).some((key) =>
      rules === undefined ? !annotations.has(key) : rules.has(key),
    )
  }

  /** The `$dynamicRef` (or `$recursiveRef`) of a schema, where the dialect has them. */
  private dynamicRefOf(node: Record<string, unknown>): string | undefined {
    if (!this.dynamic) return undefined
    if (typeof node.$dynamicRef === 'string') return node.$dynamicRef
    return typeof node.$recursiveRef === 'string' ? node.$recursiveRef : undefined
  }

  /** The locations of the schemas the schema at `at` applies to parts of its value. */
  private partsOf(at: Location): Location[] {
    return this.under(at, this.applicators.parts)
  }

  /** The locations of the schemas under the keywords given, in the schema at `at`. */
  private under(at: Location, { one, lists, records }: KeywordSets): Location[] {
    const { node, pointer } = at
    const found: Location[] = []
    const add = (item: unknown, where: string) => {
      if (isRecord(item)) found.push(this.locate(at, item, where))
    }
    for (const key of one) {
      // ajv applies `if` only with a `then` or an `else`, and those only with an `if`.
      if (
        key === 'if'
          ? !this.hasSchema(node.then) && !this.hasSchema(node.else)
          : ignoredBranch(key, node)
      ) {
        continue
      }
      add(node[key], `${pointer}/${key}`)
    }
    for (const key of lists) {
      const list = node[key]
      if (!Array.isArray(list)) continue
      // Without `unevaluated` (draft-07's ajv; Ajv2020 turns it on), ajv skips an `anyOf` with
      // a branch that is always valid.
      if (key === 'anyOf' && !this.dynamic && list.some((item) => !this.hasSchema(item))) continue
      list.forEach((item, i) => add(item, `${pointer}/${key}/${i}`))
    }
    for (const key of records) {
      const record = node[key]
      if (!isRecord(record)) continue
      for (const [name, item] of Object.entries(record)) {
        add(item, `${pointer}/${key}/${escapePointer(name)}`)
      }
    }
    return found
  }

  /** Where ajv may compile a function of its own: a root, a `$ref`'s target, a dynamic anchor. */
  private compiledApart(location: Location): boolean {
    return (
      location.pointer === '' ||
      this.named.get(location.node)?.has(this.keyOf(location)) === true ||
      this.anchorOf(location.node) !== undefined
    )
  }

  /** The location `ref`, in the schema at `at`, names; none for a URI not indexed. */
  private targets(at: Location, ref: string): Location[] {
    const uri = resolveUri(at.base, ref)
    const [resource, fragment] = splitUri(uri)
    const { document } = at
    const own = this.roots.get(document)
    const roots =
      resource === '' ? (own === undefined ? [] : [own]) : (this.byUri.get(resource) ?? [])
    let found: Location[]
    if (fragment === '') found = roots
    else if (!fragment.startsWith('/')) {
      const local = resource === '' ? this.localAnchors.get(document) : undefined
      found = (local === undefined ? this.byUri.get(uri) : local.get(fragment)) ?? []
    } else {
      found = []
      for (const root of roots) {
        const target = this.descend(root, fragment)
        if (target !== undefined) found.push(target)
      }
    }
    if (found.length === 0 && resource !== '') {
      this.missed.add(fragment === '' || fragment.startsWith('/') ? resource : uri)
    }
    for (const target of found) addTo(this.named, target.node, this.keyOf(target))
    return found
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
  const [resource, fragment] = splitUri(resolveUri(at.base, $id))
  if (fragment === '') return { ...at, base: resource, pointer: '' }
  // draft-07's `$id: 'https://x/o#foo'`: the `$ref`s inside are read against `https://x/o`,
  // as ajv reads them (its base is the whole URI); `#foo` keeps the base it is in.
  return resource === at.base || resource === '' ? at : { ...at, base: resource }
}

/**
 * `ref` resolved against `base` as ajv resolves it (fast-uri, then `normalizeId`): a trailing
 * `#` or `#/` names the resource itself.
 */
function resolveUri(base: string, ref: string): string {
  return fastUri.resolve(base, ref).replace(/#\/?$/, '')
}

// Keywords ajv runs no code for in either dialect (annotations, and where schemas and URIs are).
const annotations = new Set([
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'contentMediaType',
  'contentEncoding',
  'contentSchema',
  '$id',
  '$schema',
  '$anchor',
  '$defs',
  'definitions',
  '$vocabulary',
])

/** `then` or `else` in a schema without `if`: ajv ignores them. */
function ignoredBranch(key: string, node: Record<string, unknown>): boolean {
  return (key === 'then' || key === 'else') && node.if === undefined
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

/** A place to search from: a location, and the dynamic anchors set when a value gets there. */
interface Start {
  readonly at: Location
  /** Sorted. */
  readonly anchors: readonly string[]
}

function mark(key: string, anchors: readonly string[]): string {
  return anchors.length === 0 ? key : `${key}\u0000${anchors.join('\u0000')}`
}

// The searches from one place with anchors set before it is searched with none (`enqueue`).
const SEARCHES = 4

/** The schemas a schema lies in, innermost first (`add`). */
interface Within {
  readonly node: object
  readonly up: Within | null
}

function inside(within: Within | null, node: object): boolean {
  for (let at = within; at !== null; at = at.up) if (at.node === node) return true
  return false
}

/**
 * The anchor a schema sets for `$dynamicRef`: its `$dynamicAnchor`, or for 2019-09's
 * `$recursiveAnchor: true` the empty name, which `$recursiveRef: '#'` asks for (as ajv reads
 * them).
 */
function dynamicAnchorOf(node: Record<string, unknown>): string | undefined {
  if (typeof node.$dynamicAnchor === 'string') return node.$dynamicAnchor
  return node.$recursiveAnchor === true ? '' : undefined
}

// Keywords whose schemas apply to a part of the value (`items` as a list is draft-07's tuple).
const partOne = [...oneSchema].filter((key) => !(sameValueOne as readonly string[]).includes(key))
const partList = [...schemaLists].filter(
  (key) => !(sameValueList as readonly string[]).includes(key),
)
const partRecord = [...schemaRecords].filter(
  (key) =>
    !(sameValueRecord as readonly string[]).includes(key) &&
    key !== '$defs' &&
    key !== 'definitions',
)

/** `location` among those `key` names, once for each schema and base. */
function addLocation(map: Map<string, Location[]>, key: string, location: Location): void {
  const all = map.get(key)
  if (all === undefined) map.set(key, [location])
  else if (!all.some((known) => known.node === location.node && known.base === location.base)) {
    all.push(location)
  }
}

function addTo(map: WeakMap<object, Set<string>>, node: object, key: string) {
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
