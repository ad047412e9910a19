import { atPointer, isRecord } from '../core/json-pointer.js'
import { readDocument } from '../core/schema-files.js'

/** An OpenAPI 3.0 or 3.1 document, as parsed from JSON or YAML. */
export type OpenApiDocument = { readonly openapi: string; readonly [field: string]: unknown }

/** A parsed document with its major.minor version, and what to call it in errors. */
export interface LoadedDocument {
  readonly document: OpenApiDocument
  readonly version: '3.0' | '3.1'
  readonly name: string
}

/** Read a document from a path (`.json`, `.yaml`, `.yml`) or take it as given. */
export function loadDocument(source: string | OpenApiDocument): LoadedDocument {
  const name = typeof source === 'string' ? `OpenAPI document "${source}"` : 'OpenAPI document'
  const document = typeof source === 'string' ? readDocument(source) : source
  if (!isRecord(document) || typeof document.openapi !== 'string') {
    throw new Error(`safebody: ${name} has no "openapi" version field`)
  }
  const version = /^3\.([01])\.\d+/.exec(document.openapi)
  if (version === null) {
    throw new Error(
      `safebody: ${name} is OpenAPI ${document.openapi}; only 3.0.x and 3.1.x are supported`,
    )
  }
  return {
    document: document as OpenApiDocument,
    version: `3.${version[1]}` as '3.0' | '3.1',
    name,
  }
}

/**
 * Follow a local reference (`#/components/requestBodies/NewUser`) inside the document,
 * following chains of references; throws naming the reference if it leads nowhere (`where`
 * names the document).
 */
export function resolveLocal(loaded: LoadedDocument, value: unknown, where: string): unknown {
  const seen = new Set<string>()
  let current = value
  while (isRecord(current) && typeof current.$ref === 'string') {
    const ref = current.$ref
    if (!ref.startsWith('#/') || seen.has(ref)) {
      throw new Error(`safebody: ${where}: cannot follow $ref "${ref}"`)
    }
    seen.add(ref)
    current = pointer(loaded.document, ref)
    if (current === undefined) {
      throw new Error(`safebody: ${where}: $ref "${ref}" points at nothing`)
    }
  }
  return current
}

/** What the local reference `ref` (`#/a/b~1c`) points at in `root`, or undefined. */
export function pointer(root: unknown, ref: string): unknown {
  return atPointer(root, ref.slice(1))
}
