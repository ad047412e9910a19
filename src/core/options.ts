import bytes from 'bytes'
import {
  defaultFormats,
  type DuplicateKeys,
  type FormatName,
  isFormatName,
  type LargeIntegers,
} from '../decoders/types.js'
import type { StructureLimits } from './guard.js'
import { defaults, type LimitOptions, sizeLimit } from './limits.js'
import { type IntegrityOptions, type IntegrityPolicy, integrityPolicy } from './integrity.js'
import type { OpenApiDocument } from '../openapi/document.js'
import type { ProtoSource } from './proto.js'
import type { ReadPolicy } from './read.js'
import type { RoutingOptions } from './routes.js'
import type { BodySchema, SchemaSource, ValidationOptions } from './registry.js'
import type { SafeBodyMode, ViolationOptions } from './violations.js'
export type { SafeBodyMode } from './violations.js'
export type { LimitOptions } from './limits.js'

/** Settings for every route that a binding may override for its own. */
export interface RouteSettings extends LimitOptions {
  /** Default `'enforce'`. Report mode never relaxes what is dangerous in itself. */
  mode?: SafeBodyMode
  /** Require an HMAC signature over the body; `false` turns a global one off for a route. */
  integrity?: IntegrityOptions | false
}

/** What a route accepts. */
export interface RouteBinding extends RouteSettings {
  /**
   * A registered schema id, or a schema: a JSON Schema object, or a Standard Schema (zod,
   * valibot, arktype), whose output is what the handler gets.
   */
  schema: string | BodySchema
  /** Refuse a request that has no body (400). Default false: no body passes, unvalidated. */
  required?: boolean
  /**
   * The formats this route accepts. Default: the global `formats` option, or json, msgpack
   * and yaml; plus protobuf when the route binds a `message`.
   */
  formats?: readonly FormatName[]
  /** The protobuf message type (`'demo.User'`) bodies on this route decode as. */
  message?: string
}

/** `safeBody()`'s options. */
export interface SafeBodyOptions extends RouteSettings, ViolationOptions {
  /** The schemas routes may name: a record id -> schema, an array of `$id` schemas, or a folder. */
  schemas?: SchemaSource
  /**
   * `'METHOD /path'` -> a schema id, a schema (JSON Schema or Standard Schema), or a binding
   * (`{ schema, ...settings }`). Bodies on any other route are refused.
   */
  routes?: { readonly [route: string]: string | RouteBinding | BodySchema }
  /** ajv settings an application may change (strict mode and own-properties stay on). */
  ajv?: ValidationOptions
  /**
   * An OpenAPI 3.0 or 3.1 document (a `.json`/`.yaml` path, or the parsed object): each
   * operation's requestBody becomes a route, its `components/schemas` join `schemas`.
   * `routes` may add routes the document does not have, not rebind its routes.
   */
  openapi?: string | OpenApiDocument
  /** The formats a route allows when its binding does not say. Default json, msgpack, yaml. */
  formats?: readonly FormatName[]
  /** The `.proto` files message types come from: a folder, or a list of file paths. */
  proto?: ProtoSource
  /**
   * How `routes` keys compare with request paths: as the application's router does. Default
   * `{ caseSensitive: false, strict: false }` (Express's and Koa's defaults); on Hono
   * `{ caseSensitive: true, strict: true }`, as Hono routes; on fastify, where a key binds a
   * route by its pattern, `{ caseSensitive: true, strict: true }`.
   */
  routing?: RoutingOptions
}

/** One route's settings, fully resolved: what the hot path reads, computed once. */
export interface RoutePolicy {
  readonly read: ReadPolicy
  readonly limits: StructureLimits
  readonly required: boolean
  readonly formats: readonly FormatName[]
  readonly mode: SafeBodyMode
  readonly integrity: IntegrityPolicy | null
  readonly largeIntegers: LargeIntegers
  readonly duplicateKeys: DuplicateKeys
  /** The protobuf message type's full name, if the route binds one. */
  readonly message?: string
  /** The rules its binding or instance sets, not defaults: what a body another took meets. */
  readonly own: OwnRules
}

/**
 * The rules a binding sets itself (or its instance's options set), without the defaults
 * filled in: a body another instance read is held to these (see `retakeBody`), so a binding
 * written only to type `req.body` adds no default of its own to the one that read it.
 */
export interface OwnRules {
  /** Whether the content types are the binding's own list (its `formats`, or a `message`). */
  readonly formats: boolean
  /** `limit` and `inflate` where set; else no limit, and inflation allowed. */
  readonly read: ReadPolicy
  /** The structure limits set (`maxNodes` and `maxStringLength` follow a set `limit`). */
  readonly limits: Partial<Omit<StructureLimits, 'route'>>
  readonly largeIntegers?: LargeIntegers
  readonly duplicateKeys?: DuplicateKeys
}

const limitKeys = Object.keys(defaults) as ReadonlyArray<keyof LimitOptions>
const settingKeys = [...limitKeys, 'mode', 'integrity']
const optionKeys = new Set<string>([
  ...settingKeys,
  'schemas',
  'routes',
  'ajv',
  'openapi',
  'formats',
  'proto',
  'onViolation',
  'excerpt',
  'routing',
])
const bindingKeys = new Set<string>([...settingKeys, 'schema', 'required', 'formats', 'message'])

/**
 * Throw on any key that is not an option, naming it and the nearest known one: a typo must
 * not turn a check off.
 */
export function checkKeys(value: object, allowed: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(value)) {
    if (allowed.has(key)) continue
    const near = nearest(key, allowed)
    const hint = near === undefined ? '' : `; did you mean "${near}"?`
    throw new TypeError(`safebody: unknown option "${key}" in ${where}${hint}`)
  }
}

/** True for a key that names a route (`'POST /users'`) rather than an option. */
export function isRouteKey(key: string): boolean {
  return /^[A-Za-z]+\s+\//.test(key)
}

export function checkOptionKeys(options: SafeBodyOptions): void {
  const routes = Object.keys(options).filter(isRouteKey)
  if (routes.length > 0) {
    // The short form and the options form mixed: say what each looks like.
    const route = routes[0] as string
    throw new TypeError(
      `safebody: "${route}" is a route, but it sits among safeBody() options. Either pass ` +
        `routes alone (safeBody({ '${route}': schema })), or put them under routes with the ` +
        `options beside it (safeBody({ routes: { '${route}': schema }, limit: '1mb' })).`,
    )
  }
  checkKeys(options, optionKeys, 'safeBody() options')
  if (options.formats !== undefined) formatList(options.formats, 'safeBody() options')
}

/** The known name closest to `key` (edit distance at most a third of its length), if any. */
function nearest(key: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1
  for (const name of known) {
    const d = editDistance(key.toLowerCase(), name.toLowerCase())
    if (d < bestDistance) {
      best = name
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + cost,
      )
    }
    row = next
  }
  return row[b.length] as number
}

/**
 * Resolve a route's policy from the global options and its binding. Throws on a bad value.
 * `route` names the route in refusals (`'POST /users'`); `where` names it in start-up errors.
 */
export function routePolicy(
  global: RouteSettings & Pick<SafeBodyOptions, 'formats'>,
  binding: Omit<RouteBinding, 'schema'>,
  where: string,
  route?: string,
): RoutePolicy {
  checkKeys(binding, bindingKeys, where)
  const pick = <K extends keyof LimitOptions>(key: K) =>
    binding[key] ?? global[key] ?? defaults[key]
  const required = binding.required ?? false
  if (typeof required !== 'boolean')
    throw new TypeError(`safebody: ${where}: required must be boolean`)
  const mode = binding.mode ?? global.mode ?? 'enforce'
  if (mode !== 'enforce' && mode !== 'report') {
    throw new TypeError(`safebody: ${where}: mode must be 'enforce' or 'report'`)
  }
  const integrity = binding.integrity ?? global.integrity ?? false
  const inflate = pick('inflate')
  if (typeof inflate !== 'boolean')
    throw new TypeError(`safebody: ${where}: inflate must be boolean`)
  const largeIntegers = pick('largeIntegers')
  if (largeIntegers !== 'refuse' && largeIntegers !== 'string') {
    throw new TypeError(`safebody: ${where}: largeIntegers must be 'refuse' or 'string'`)
  }
  const duplicateKeys = pick('duplicateKeys')
  if (duplicateKeys !== 'refuse' && duplicateKeys !== 'last') {
    throw new TypeError(`safebody: ${where}: duplicateKeys must be 'refuse' or 'last'`)
  }
  const message = binding.message
  if (message !== undefined && (typeof message !== 'string' || message === '')) {
    throw new TypeError(`safebody: ${where}: message must be a message type name like "demo.User"`)
  }
  const limit = byteCount(pick('limit'), `${where}: limit`)
  // Unless set, the size-only limits follow `limit`: a body that fits it is never refused
  // for its string lengths or value count alone (see sizeLimit).
  const sized = (key: 'maxNodes' | 'maxStringLength') =>
    positive(binding[key] ?? global[key] ?? sizeLimit(key, limit), `${where}: ${key}`)
  const read = { limit, timeout: positive(pick('timeout'), `${where}: timeout`), inflate, route }
  const limits = {
    depth: positive(pick('maxDepth'), `${where}: maxDepth`),
    keys: positive(pick('maxKeys'), `${where}: maxKeys`),
    nodes: sized('maxNodes'),
    nodesFollowLimit: binding.maxNodes === undefined && global.maxNodes === undefined,
    stringLength: sized('maxStringLength'),
    route,
  }
  const set = (key: keyof LimitOptions | 'formats') =>
    binding[key] !== undefined || global[key] !== undefined
  const own: OwnRules = {
    formats: set('formats') || message !== undefined,
    read: {
      ...read,
      limit: set('limit') ? limit : Infinity,
      inflate: set('inflate') ? inflate : true,
    },
    limits: {
      ...(set('maxDepth') ? { depth: limits.depth } : {}),
      ...(set('maxKeys') ? { keys: limits.keys } : {}),
      ...(set('maxNodes') || set('limit') ? { nodes: limits.nodes } : {}),
      ...(set('maxStringLength') || set('limit') ? { stringLength: limits.stringLength } : {}),
    },
    ...(set('largeIntegers') ? { largeIntegers } : {}),
    ...(set('duplicateKeys') ? { duplicateKeys } : {}),
  }
  return {
    read,
    limits,
    required,
    formats: routeFormats(binding.formats, global.formats, message, where),
    mode,
    integrity: integrity === false ? null : integrityPolicy(integrity, where),
    largeIntegers,
    duplicateKeys,
    ...(message === undefined ? {} : { message }),
    own,
  }
}

/**
 * A binding's own list is taken as written, and may name protobuf only with a message type.
 * The global list (or the default) is a default: protobuf joins it wherever a message type
 * is bound, and leaves it where none is.
 */
function routeFormats(
  own: unknown,
  global: unknown,
  message: string | undefined,
  where: string,
): readonly FormatName[] {
  if (own !== undefined) {
    const list = formatList(own, where)
    if (list.includes('protobuf') && message === undefined) {
      throw new TypeError(
        `safebody: ${where}: formats names protobuf, so the binding needs a message type ({ message: 'pkg.Type' })`,
      )
    }
    return list
  }
  const base = formatList(
    global ?? defaultFormats,
    global === undefined ? where : 'safeBody() options',
  )
  const others = base.filter((name) => name !== 'protobuf')
  return message === undefined ? others : [...others, 'protobuf']
}

function byteCount(value: unknown, what: string): number {
  const n = typeof value === 'string' ? bytes.parse(value) : value
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new TypeError(`safebody: ${what} must be a byte count like 102400 or '100kb'`)
  }
  return n
}

function positive(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`safebody: ${what} must be a positive integer`)
  }
  return value
}

function formatList(value: unknown, where: string): readonly FormatName[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`safebody: ${where}: formats must be a non-empty array`)
  }
  for (const name of value) {
    if (!isFormatName(name)) throw new TypeError(`safebody: ${where}: unknown format "${name}"`)
  }
  return value as FormatName[]
}
