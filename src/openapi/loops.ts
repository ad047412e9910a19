import {
  type Dialect,
  type Location,
  locationUri,
  loopPath,
  SchemaResources,
} from '../core/loops.js'
import type { JsonSchema } from '../core/registry.js'

/**
 * Refuse a document whose schemas come back to themselves through `$ref`s without reading
 * into the value on the way (`SchemaResources`), naming the loop's schemas as the document
 * does. `schemas` are the translated components, by `$id`, and the `$id`s inside them; a loop
 * through a `$ref` to elsewhere (the `schemas` option) is found when the registry is built.
 * `dialect` says which keywords apply (draft-07 has no `$dynamicRef` or `$recursiveRef`).
 */
export function refuseSameValueLoops(
  schemas: readonly JsonSchema[],
  name: string,
  dialect: Dialect,
): void {
  const resources = new SchemaResources(dialect)
  for (const schema of schemas) resources.add(schema, '')
  for (const schema of schemas) {
    const id = typeof schema === 'object' ? schema.$id : undefined
    const loop = resources.loopIn(schema, `${name}: ${typeof id === 'string' ? id : 'a schema'}`)
    if (loop === null) continue
    const start = (loop[0] as Location).base
    throw new Error(
      `safebody: ${name}: schema "${start}" refers to itself in a loop that reads nothing of ` +
        `the value (${loopPath(loop, documentName)}: $ref, allOf, anyOf, if/then and the ` +
        'like): validating would overflow the stack',
    )
  }
}

/**
 * Where `at` is in the document: `#/components/schemas/Pet` and its pointer for a component's
 * schema, as the document spells it; its URI for one with an `$id` of its own.
 */
function documentName(at: Location): string {
  const { base, pointer } = at
  if (!base.startsWith('openapi:')) return locationUri(at)
  const without = /\/without-discriminator$/.test(base)
  const path = `${base.replace(/^openapi:/, '#').replace(/\/without-discriminator$/, '')}${pointer}`
  return without ? `${path} (without its discriminator)` : path
}
