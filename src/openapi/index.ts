import type { ValidationOptions } from '../core/registry.js'
import { type OpenApiBinding, type OpenApiRoutes, openApiRoutes } from './bindings.js'
import { loadDocument, type OpenApiDocument } from './document.js'
import { openApiKeywords } from './schema.js'

export type { OpenApiDocument } from './document.js'
export { expressPath } from './paths.js'

/**
 * The routes and schemas an OpenAPI document contributes to `safeBody()`. OpenAPI 3.1
 * schemas are JSON Schema 2020-12, so they need the default dialect; 3.0's are translated
 * and work with either.
 */
export function openApiSource(
  source: string | OpenApiDocument,
  validation: ValidationOptions = {},
): OpenApiRoutes {
  const loaded = loadDocument(source)
  if (loaded.version === '3.1' && validation.draft === '07') {
    throw new Error(`safebody: ${loaded.name} is OpenAPI 3.1, whose schemas need draft 2020-12`)
  }
  const found = openApiRoutes(loaded, undefined, validation.draft ?? '2020-12')
  for (const keyword of openApiKeywords) found.keywords.add(keyword)
  return found
}

/**
 * The route table: the document's routes, then the `routes` option's. A route in both is
 * refused rather than silently picking one.
 */
export function mergeRoutes<Spec>(
  fromDocument: OpenApiRoutes['routes'] | undefined,
  routes: { readonly [route: string]: Spec } | undefined,
): Array<[string, Spec | string | OpenApiBinding | null]> {
  const merged: Array<[string, Spec | string | OpenApiBinding | null]> = [...(fromDocument ?? [])]
  const keys = new Set(merged.map(([key]) => key))
  for (const [key, binding] of Object.entries(routes ?? {})) {
    if (keys.has(key)) {
      throw new Error(`safebody: route "${key}" is in both the OpenAPI document and routes`)
    }
    merged.push([key, binding])
  }
  return merged
}
