import type { JsonSchema } from '../core/registry.js'
import { isRecord, pointer } from './document.js'

// Keywords whose schemas apply to the same value as the schema that holds them.
const sameValueOne = ['not', 'if', 'then', 'else'] as const
const sameValueList = ['allOf', 'anyOf', 'oneOf'] as const
const sameValueMap = ['dependentSchemas', 'dependencies'] as const

/**
 * Refuse a document whose schemas come back to themselves through `$ref`s without reading
 * into the value on the way (`allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`,
 * `dependentSchemas`): once a value reaches such a loop, validating it never ends, and the
 * stack overflows (a 500 on client input). JSON Schema leaves such schemas undefined (2020-12
 * core, 9.4.1). Start-up probing finds only loops every value reaches; this finds the ones
 * behind an `if`, an `anyOf` branch or a discriminator too. `schemas` are the translated
 * components, by `$id`; a loop through a `$ref` to elsewhere (the `schemas` option) is left
 * to the probe.
 */
export function refuseSameValueLoops(schemas: readonly JsonSchema[], name: string): void {
  const byId = new Map<string, object>()
  for (const schema of schemas) {
    if (isRecord(schema) && typeof schema.$id === 'string') byId.set(schema.$id, schema)
  }
  const done = new WeakSet<object>()
  // The schemas on the current way, each with the `$id` of the schema it lies in.
  const way = new Map<object, string>()
  const visit = (schema: unknown, id: string): void => {
    if (!isRecord(schema) || done.has(schema)) return
    if (way.has(schema)) {
      const ids = [...way.values()].slice([...way.keys()].indexOf(schema))
      throw loopError(name, ids)
    }
    way.set(schema, id)
    for (const key of sameValueOne) visit(schema[key], id)
    for (const key of sameValueList) {
      const list = schema[key]
      if (Array.isArray(list)) for (const item of list) visit(item, id)
    }
    for (const key of sameValueMap) {
      const map = schema[key]
      if (isRecord(map)) for (const item of Object.values(map)) visit(item, id)
    }
    if (typeof schema.$ref === 'string') {
      const [target, fragment = ''] = schema.$ref.split('#') as [string, string?]
      const root = byId.get(target)
      if (root !== undefined) {
        visit(fragment === '' ? root : pointer(root, `#${fragment}`), target)
      }
    }
    way.delete(schema)
    done.add(schema)
  }
  for (const [id, schema] of byId) visit(schema, id)
}

function loopError(name: string, ids: string[]): Error {
  const start = ids[0] as string
  const names = [...ids.filter((id, i) => id !== ids[i - 1]), start].map(documentName)
  return new Error(
    `safebody: ${name}: schema "${start}" refers to itself in a loop that reads nothing of the ` +
      `value (${names.join(' -> ')}: $ref, allOf, anyOf, if/then and the like): validating ` +
      'would overflow the stack',
  )
}

/** `#/components/schemas/Pet` for the component's `$id`, as the document spells it. */
function documentName(id: string): string {
  const base = /\/without-discriminator$/.test(id)
  const path = id.replace(/^openapi:/, '#').replace(/\/without-discriminator$/, '')
  return base ? `${path} (without its discriminator)` : path
}
