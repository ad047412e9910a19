import { type Format, type FormatName, formats } from '../decoders/formats.js'
import { repeatCount } from '../core/schema-files.js'
import type { RouteBinding } from '../core/options.js'
import type { Dialect } from '../core/loops.js'
import type { JsonSchema } from '../core/registry.js'
import { isRecord } from '../core/json-pointer.js'
import { type LoadedDocument, resolveLocal } from './document.js'
import { basePaths, expressPath } from './paths.js'
import { refuseSameValueLoops } from './loops.js'
import {
  baseId,
  componentId,
  discriminatedSchemas,
  discriminatorPicks,
  type TranslateContext,
  translateSchema,
} from './schema.js'

/** A route binding read from an operation's requestBody (`message` from `x-protobuf-message`). */
export type OpenApiBinding = RouteBinding

/** What an OpenAPI document adds: routes (null: the operation takes no body), and schemas. */
export interface OpenApiRoutes {
  readonly routes: Array<[string, OpenApiBinding | null]>
  /** `components/schemas`, translated, each with its `$id`. */
  readonly schemas: JsonSchema[]
  /** Annotation keywords the schemas use. */
  readonly keywords: Set<string>
}

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

/** The media type extension that names the protobuf message a route's body decodes as. */
const protobufMessageKey = 'x-protobuf-message'

/**
 * Read the route table out of an OpenAPI document: one route per operation and server base
 * path, bound to its requestBody (schema, media types as formats, `required`), or bound to
 * nothing when it has no requestBody, so that a body sent there is refused.
 */
export function openApiRoutes(
  loaded: LoadedDocument,
  available: Readonly<Record<string, Format>> = formats,
  /** The dialect the document's schemas are validated in (`SchemaResources`). */
  dialect: Dialect = '2020-12',
): OpenApiRoutes {
  const { document, version, name } = loaded
  const schemas: JsonSchema[] = []
  const components = isRecord(document.components) ? document.components.schemas : undefined
  const found = isRecord(components) ? { components } : {}
  const inherits = new WeakMap<object, Set<object>>()
  const discriminated = discriminatedSchemas(document, found, inherits)
  // A component whose discriminator picks a schema that inherits it (`Cat: allOf: [Pet]`) is
  // registered twice: whole, and as the base the picked schemas' `$ref`s to it name.
  const bases = new Map<object, string>()
  for (const [key, schema] of Object.entries(isRecord(components) ? components : {})) {
    const where = `${name} #/components/schemas/${key}`
    if (isRecord(schema) && discriminatorPicks(schema, where) !== null) {
      bases.set(schema, baseId(key))
    }
  }
  const context: TranslateContext = {
    version,
    name,
    keywords: new Set(),
    repeats: repeatCount(),
    discriminated,
    inherits,
    bases,
    dispatch: new WeakSet(),
    translated: new WeakMap(),
    ...found,
  }
  for (const [key, schema] of Object.entries(isRecord(components) ? components : {})) {
    const translated = translateSchema(schema, context, `${name} #/components/schemas/${key}`)
    if (typeof translated === 'boolean') {
      schemas.push(translated ? { $id: componentId(key) } : { $id: componentId(key), not: {} })
      continue
    }
    schemas.push({ ...translated, $id: componentId(key) })
    const base = isRecord(schema) ? bases.get(schema) : undefined
    if (base === undefined) continue
    const allOf = (translated.allOf as object[]).filter((entry) => !context.dispatch?.has(entry))
    const { allOf: _dispatched, ...rest } = translated
    schemas.push({ ...rest, ...(allOf.length > 0 ? { allOf } : {}), $id: base })
  }
  refuseSameValueLoops(schemas, name, dialect)

  const routes: Array<[string, OpenApiBinding | null]> = []
  const paths = isRecord(document.paths) ? document.paths : {}
  for (const [template, rawItem] of Object.entries(paths)) {
    const item = resolveLocal(loaded, rawItem, `${name}: path "${template}"`)
    if (!isRecord(item)) continue
    const path = expressPath(template)
    for (const method of methods) {
      const operation = item[method]
      if (!isRecord(operation)) continue
      const where = `${name}: ${method.toUpperCase()} ${template}`
      const binding = requestBodyBinding(loaded, operation.requestBody, context, available, where)
      const servers = operation.servers ?? item.servers ?? document.servers
      for (const base of basePaths(servers)) {
        routes.push([`${method.toUpperCase()} ${base}${path}`, binding])
      }
    }
  }
  return { routes, schemas, keywords: context.keywords }
}

function requestBodyBinding(
  loaded: LoadedDocument,
  raw: unknown,
  context: TranslateContext,
  available: Readonly<Record<string, Format>>,
  where: string,
): OpenApiBinding | null {
  if (raw === undefined) return null
  const body = resolveLocal(loaded, raw, `${where} requestBody`)
  if (!isRecord(body) || !isRecord(body.content) || Object.keys(body.content).length === 0) {
    throw new Error(`safebody: ${where}: requestBody has no content`)
  }
  const names = new Set<FormatName>()
  const found = new Map<string, JsonSchema>()
  let message: string | undefined
  for (const [mediaType, media] of Object.entries(body.content)) {
    const format = formatFor(mediaType, available, where)
    names.add(format.name)
    const object = isRecord(media) ? media : {}
    if (object.schema !== undefined) {
      const schema = translateSchema(object.schema, context, `${where} ${mediaType}`)
      found.set(JSON.stringify(schema), schema)
    }
    if (format.name === 'protobuf') {
      const named = object[protobufMessageKey]
      if (typeof named !== 'string' || named === '') {
        throw new Error(`safebody: ${where}: ${mediaType} needs "${protobufMessageKey}"`)
      }
      message = named
    }
  }
  // One schema validates a route's body in every format (one data model); a document that
  // gives its media types different schemas cannot be honoured, so it is refused.
  if (found.size > 1) {
    throw new Error(`safebody: ${where}: all media types of a requestBody must share one schema`)
  }
  const binding: OpenApiBinding = {
    schema: found.values().next().value ?? true,
    required: body.required === true,
    formats: [...names],
  }
  if (message !== undefined) binding.message = message
  return binding
}

/** The format a media type from the document selects, by the formats' own media types. */
function formatFor(
  mediaType: string,
  available: Readonly<Record<string, Format>>,
  where: string,
): Format {
  const essence = (mediaType.split(';')[0] as string).trim().toLowerCase()
  const all = Object.values(available)
  const format =
    all.find((f) => f.mediaTypes.includes(essence)) ??
    all.find((f) => f.suffix !== undefined && essence.endsWith(f.suffix))
  if (format === undefined || essence.includes('*')) {
    throw new Error(
      `safebody: ${where}: media type "${mediaType}" is not one safebody decodes ` +
        `(${all.flatMap((f) => f.mediaTypes).join(', ')})`,
    )
  }
  return format
}
