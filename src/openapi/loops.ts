import { SchemaResources } from '../core/loops.js'
import type { JsonSchema } from '../core/registry.js'

/**
 * Refuse a document whose schemas come back to themselves through `$ref`s without reading
 * into the value on the way (`SchemaResources`), naming the loop's schemas as the document
 * does. `schemas` are the translated components, by `$id`, and the `$id`s inside them; a loop
 * through a `$ref` to elsewhere (the `schemas` option) is found when the registry is built.
 */
export function refuseSameValueLoops(schemas: readonly JsonSchema[], name: string): void {
  const resources = new SchemaResources()
  for (const schema of schemas) resources.add(schema, '')
  for (const schema of schemas) {
    const ids = resources.loopIn(schema)
    if (ids !== null) throw loopError(name, ids)
  }
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
