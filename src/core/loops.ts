import fastUriModule from 'fast-uri'
import { atPointer, isRecord } from './json-pointer.js'
import { cjsDefault } from './length.js'

/**
 * `$ref` loops that read nothing of the value on their way round: `A: { anyOf: [{ type:
 * 'string' }, { $ref: 'A' }] }`, or A -> B -> A through `allOf`, `if`/`then`, `not`. Once a
 * value reaches one, validating it never ends and the stack overflows: a 500 on client input.
 * JSON Schema leaves such schemas undefined (2020-12 core, 9.4.1) and ajv compiles them, so
 * safebody refuses them at start-up. Found here by reading the schemas, not by running them: a
 * loop behind an `if`, an `anyOf` branch or a discriminator is reached by some values only,
 * which a probe at start-up does not send.
 */

// ajv resolves `$id` and `$ref` with fast-uri (safebody sets no other `uriResolver`).
const fastUri = cjsDefault<typeof fastUriModule>(fastUriModule)

// Keywords whose schemas apply to the same value as the schema that holds them.
const sameValueOne = ['not', 'if', 'then', 'else'] as const
const sameValueList = ['allOf', 'anyOf', 'oneOf'] as const
const sameValueMap = ['dependentSchemas', 'dependencies'] as const
// Keywords whose values are data, not schemas: an `$id` inside one names no schema.
const dataKeywords = new Set(['const', 'enum', 'default', 'examples', 'example'])

/**
 * The schemas `$ref`s may reach, by URI: each root under its base, and every `$id` and
 * `$anchor` inside one, each resolved against the base of the schema that holds it, as ajv
 * resolves them. A reference to any other URI (a meta-schema, a `$dynamicRef`) is not
 * followed.
 */
export class SchemaResources {
  private readonly byUri = new Map<string, object>()
  /** The base URI each indexed schema's own `$ref` resolves against. */
  private readonly bases = new WeakMap<object, string>()
  /**
   * The outermost schema each indexed one lies in: what a reference with no URI before its
   * fragment (`#/$defs/a`) names where there is no base (an inline schema without `$id`).
   */
  private readonly documents = new WeakMap<object, object>()
  /** The schemas inside each added one, itself included. */
  private readonly members = new WeakMap<object, object[]>()
  /** Schemas whose every loop was looked for: none. */
  private readonly clear = new WeakSet<object>()

  /** Index `schema` and the schemas inside it, `base` being the URI it is known by. */
  add(schema: unknown, base: string): void {
    if (!isRecord(schema)) return
    if (typeof schema.$id !== 'string' && base !== '') {
      this.byUri.set(splitUri(fastUri.resolve('', base))[0], schema)
    }
    const nodes: object[] = []
    this.members.set(schema, nodes)
    const pending: Array<[unknown, string]> = [[schema, base]]
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [node, outer] = next
      if (Array.isArray(node)) {
        for (const item of node) pending.push([item, outer])
        continue
      }
      if (!isRecord(node) || this.bases.has(node)) continue
      let here = outer
      if (typeof node.$id === 'string') {
        const uri = fastUri.resolve(outer, node.$id)
        const [resource, fragment] = splitUri(uri)
        // draft-07 names an anchor with `$id: '#name'`: the base stays.
        if (fragment === '') here = resource
        this.byUri.set(fragment === '' ? resource : uri, node)
      }
      if (typeof node.$anchor === 'string') {
        this.byUri.set(`${splitUri(here)[0]}#${node.$anchor}`, node)
      }
      this.bases.set(node, here)
      this.documents.set(node, schema)
      nodes.push(node)
      for (const [key, value] of Object.entries(node)) {
        if (!dataKeywords.has(key)) pending.push([value, here])
      }
    }
  }

  /**
   * The base URIs of the schemas on a same-value loop that `schema`, or any schema inside it
   * (a value reaches those through `properties`, `items` and the like), comes to, starting
   * with the first schema on the loop; null when there is none. `schema` must have been added.
   */
  loopIn(schema: unknown): string[] | null {
    // The schemas on the current way, each with its base.
    const way = new Map<object, string>()
    const visit = (node: unknown): string[] | null => {
      if (!isRecord(node) || this.clear.has(node)) return null
      if (way.has(node)) return [...way.values()].slice([...way.keys()].indexOf(node))
      way.set(node, this.bases.get(node) ?? '')
      const found = this.sameValue(node, visit)
      way.delete(node)
      if (found === null) this.clear.add(node)
      return found
    }
    for (const node of isRecord(schema) ? (this.members.get(schema) ?? [schema]) : []) {
      const found = visit(node)
      if (found !== null) return found
    }
    return null
  }

  /** Visit each schema that applies to the value `node` applies to; the first loop found. */
  private sameValue(
    node: Record<string, unknown>,
    visit: (schema: unknown) => string[] | null,
  ): string[] | null {
    const next: unknown[] = []
    for (const key of sameValueOne) next.push(node[key])
    for (const key of sameValueList) {
      const list = node[key]
      if (Array.isArray(list)) next.push(...list)
    }
    for (const key of sameValueMap) {
      const map = node[key]
      if (isRecord(map)) next.push(...Object.values(map))
    }
    if (typeof node.$ref === 'string') next.push(this.target(node, node.$ref))
    for (const schema of next) {
      const found = visit(schema)
      if (found !== null) return found
    }
    return null
  }

  /** The schema `ref`, in `from`, names; undefined for one not indexed. */
  private target(from: object, ref: string): unknown {
    const uri = fastUri.resolve(this.bases.get(from) ?? '', ref)
    const [resource, fragment] = splitUri(uri)
    const root = resource === '' ? this.documents.get(from) : this.byUri.get(resource)
    if (fragment === '') return root
    if (!fragment.startsWith('/')) return this.byUri.get(uri)
    return root === undefined ? undefined : atPointer(root, fragment)
  }
}

function splitUri(uri: string): [string, string] {
  const at = uri.indexOf('#')
  return at === -1 ? [uri, ''] : [uri.slice(0, at), uri.slice(at + 1)]
}
