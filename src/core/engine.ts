import { mergeRoutes, openApiSource } from '../openapi/index.js'
import {
  checkOptionKeys,
  isRouteKey,
  type RouteBinding,
  type RouteSettings,
  routePolicy,
  type SafeBodyOptions,
} from './options.js'
import { loadProto, type ProtoRegistry } from './proto.js'
import { type BodySchema, createRegistry, type SchemaRegistry } from './registry.js'
import { fallbackFor } from './report.js'
import { type CompiledRoute, compileRoute } from './route.js'
import {
  parseRouteKey,
  type PathToken,
  routeTable,
  type RoutingOptions,
  routingOptions,
} from './routes.js'
import { isStandardSchema } from './standard.js'
import type { BodyScope } from './body.js'
import { violationLog, type ViolationStats } from './violations.js'

/**
 * The short form: route keys (`'POST /users'`) straight to their schemas. Keys are typed as
 * route keys, so that options (`{ routes, limit }`) are never taken for the short form.
 */
export type RouteSchemas = { readonly [route: `${string} /${string}`]: BodySchema }

/**
 * What a binding may be: a schema id, a schema (JSON Schema or Standard Schema), or
 * `{ schema, ...settings }`.
 */
export type BindingSpec = string | RouteBinding | BodySchema

/**
 * Everything one set of options compiles to, once, at start-up: the route table, the shared
 * schemas and limits, the violation log. Every adapter (Express, node:http, fastify, Koa,
 * Hono, the body-parser facade) sits on one.
 */
export interface BodyEngine {
  /** The log and report mode's fallback, for `takeBody`. */
  readonly scope: BodyScope
  /** The binding of a route in the table; `undefined` when the table has none. */
  find(method: string, path: string): CompiledRoute | undefined
  /**
   * As `find`, but null where a key says the route takes no body (an OpenAPI operation
   * without a requestBody), which `find` gives as `undefined`: no binding.
   */
  findKeyed(method: string, path: string): CompiledRoute | null | undefined
  /**
   * The binding whose key has this route pattern (a router's matched route, tokenized as
   * path-to-regexp 8 does); null when its key says the route takes no body (an OpenAPI
   * operation without a requestBody); `undefined` when no key has it.
   */
  byPattern(method: string, pattern: readonly PathToken[]): CompiledRoute | null | undefined
  /**
   * Compile a binding outside the table (a per-route handler, a fastify route's schema),
   * sharing this engine's schemas and limits. `name` names it in errors and events; by
   * default `route(<id>)` or `route(inline schema)`.
   */
  bind(binding: BindingSpec, name?: string, required?: boolean): CompiledRoute
  /** A snapshot of the refusal and report counters. */
  stats(): ViolationStats
}

/**
 * Check and compile `safeBody()`'s options. Throws at start-up, naming the route or option,
 * for anything wrong. `routing` is how the adapter's router compares paths, when the options
 * do not say (Express's defaults unless given).
 */
export function createEngine(
  options: SafeBodyOptions | RouteSchemas = {},
  routing?: RoutingOptions,
): BodyEngine {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('safebody: options must be an object')
  }
  const opts = isShortForm(options) ? expandShortForm(options) : (options as SafeBodyOptions)
  checkOptionKeys(opts)
  // Resolving the global policy on its own checks it even when no route is bound yet.
  const scope: BodyScope = {
    log: violationLog(opts),
    fallback: fallbackFor(routePolicy(opts, {}, 'safeBody() options')),
    name: null,
  }
  const document = opts.openapi === undefined ? undefined : openApiSource(opts.openapi, opts.ajv)
  const registry = createRegistry(opts.schemas, opts.ajv, document)
  const proto = opts.proto === undefined ? undefined : loadProto(opts.proto)
  // A null entry is a route that takes no body: it shadows any pattern that would take one.
  const table = routeTable(
    mergeRoutes(document?.routes, opts.routes).map(([key, binding]) => {
      parseRouteKey(key)
      const route = binding === null ? null : bind(key, binding, opts, registry, proto, false)
      return [key, route] as const
    }),
    routingOptions(opts.routing, routing),
  )
  return {
    scope,
    find: (method, path) => table.find(method, path) ?? undefined,
    findKeyed: (method, path) => table.find(method, path),
    byPattern: (method, pattern) => table.byPattern(method, pattern),
    bind: (binding, name = bindingName(binding), required = true) =>
      bind(name, binding, opts, registry, proto, required),
    stats: () => scope.log.stats(),
  }
}

/**
 * Compile one binding. A string names a schema id; a Standard Schema (an object or function
 * with `~standard`) is an inline schema; any other object with a `schema` key is a binding;
 * any other object (or boolean) is an inline JSON Schema.
 */
function bind(
  key: string,
  spec: BindingSpec,
  global: RouteSettings & Pick<SafeBodyOptions, 'formats'>,
  registry: SchemaRegistry,
  proto: ProtoRegistry | undefined,
  required: boolean,
): CompiledRoute {
  const where = `route "${key}"`
  if (
    typeof spec !== 'string' &&
    typeof spec !== 'boolean' &&
    (typeof spec !== 'object' || spec === null) &&
    !isStandardSchema(spec)
  ) {
    throw new TypeError(
      `safebody: ${where} must be a schema id ('user'), a schema ({ type: 'object', ... } or a zod, valibot or arktype schema) or a binding ({ schema, ...settings })`,
    )
  }
  const full: RouteBinding = isBinding(spec) ? spec : { schema: spec as string | BodySchema }
  const { schema, ...rest } = full
  const policy = routePolicy(global, { required, ...rest }, where, key)
  try {
    return compileRoute(key, schema, policy, registry, proto)
  } catch (cause) {
    throw new Error(`${(cause as Error).message} (bound to ${where})`, { cause })
  }
}

function isBinding(spec: BindingSpec): spec is RouteBinding {
  return (
    typeof spec === 'object' &&
    spec !== null &&
    !isStandardSchema(spec) &&
    Object.hasOwn(spec, 'schema')
  )
}

function isShortForm(options: object): options is RouteSchemas {
  const keys = Object.keys(options)
  return keys.length > 0 && keys.every(isRouteKey)
}

function expandShortForm(routes: RouteSchemas): SafeBodyOptions {
  return {
    schemas: { ...routes },
    routes: Object.fromEntries(Object.keys(routes).map((k) => [k, k])),
  }
}

/** How a per-route binding is named in errors and events: `route(user)`, `route(inline schema)`. */
function bindingName(binding: BindingSpec): string {
  const schema = isBinding(binding) ? binding.schema : binding
  return typeof schema === 'string' ? `route(${schema})` : 'route(inline schema)'
}
