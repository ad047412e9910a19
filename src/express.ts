import type { IncomingMessage, ServerResponse } from 'node:http'
import createError from 'http-errors'
import { type BodyError, isBodyError } from './errors.js'
import type { IntegrityPolicy } from './core/integrity.js'
import { mergeRoutes, openApiSource } from './openapi/index.js'
import {
  checkOptionKeys,
  type RouteBinding,
  type RouteSettings,
  routePolicy,
  type SafeBodyOptions,
} from './core/options.js'
import { type CompiledRoute, compileRoute, noBody } from './core/route.js'
import { loadProto, type ProtoRegistry } from './core/proto.js'
import { readBody } from './core/read.js'
import { createRegistry, type JsonSchema, type SchemaRegistry } from './core/registry.js'
import {
  type BodyPlan,
  type Fallback,
  fallbackFor,
  planRequest,
  settleBody,
  settleNoBody,
  unread,
} from './core/report.js'
import { parseRouteKey, routeTable } from './core/routes.js'
import type { BindingBody, BodyOf, IdBody, TypedBinding, TypedBodyHandler } from './typed.js'
import {
  type RequestFacts,
  type ViolationLog,
  type ViolationStats,
  violationLog,
} from './core/violations.js'

/** The slice of Express's request the adapter needs; Express 4 and 5 both provide it. */
interface Request extends IncomingMessage {
  path: string
  body?: unknown
}
type Next = (err?: unknown) => void

/** An Express middleware (Express 4 and 5). */
export type BodyHandler = (req: IncomingMessage, res: ServerResponse, next: Next) => void

/**
 * The middleware `safeBody()` returns: bodies checked against the route table. `Bodies`
 * maps schema ids to body types, for `route('id')`; see `BodiesOf`.
 */
export interface SafeBodyMiddleware<
  Bodies extends object = Record<never, never>,
> extends BodyHandler {
  /**
   * A middleware for one route, sharing this instance's compiled schemas and limits. It
   * requires a body unless the binding says `required: false`, and types the next
   * handlers' `req.body`: from the schema (TypeBox or a `const` JSON Schema), from
   * `Bodies` for a schema id, else `unknown`.
   *
   * @example
   * app.post('/users', bodies.route(user), (req, res) => res.json(req.body.name))
   */
  route<const Id extends string>(id: Id): TypedBodyHandler<IdBody<Bodies, Id>>
  route<const B extends TypedBinding>(binding: B): TypedBodyHandler<BindingBody<Bodies, B>>
  route<const S extends JsonSchema>(schema: S): TypedBodyHandler<BodyOf<S>>
  route(binding: string | RouteBinding | JsonSchema): TypedBodyHandler<unknown>
  /** A snapshot of the refusal and report counters, by route, format, type and action. */
  stats(): ViolationStats
}

/** The short form: route keys (`'POST /users'`) straight to their schemas. */
export type RouteSchemas = { readonly [route: string]: JsonSchema }

// Marks a request whose body safebody has already taken, so that a global and a per-route
// instance (or two instances) do not both try to read it.
const taken = Symbol.for('safebody.taken')
// How long a refused connection may stay open to deliver the response before it is cut.
const LINGER_MS = 1000

/**
 * Create the body middleware: read, negotiate, decode, guard and validate every request
 * body against the schema bound to its route, and refuse everything else with a catalogued
 * 4xx error passed to `next(err)`.
 *
 * @example
 * app.use(safeBody({ schemas: { user }, routes: { 'POST /users': 'user' } }))
 */
export function safeBody<Bodies extends object = Record<never, never>>(
  options: SafeBodyOptions | RouteSchemas = {},
): SafeBodyMiddleware<Bodies> {
  const opts = isShortForm(options) ? expandShortForm(options) : (options as SafeBodyOptions)
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError('safebody: options must be an object')
  }
  checkOptionKeys(opts)
  // Resolving the global policy on its own checks it even when no route is bound yet.
  const judge: Judge = {
    log: violationLog(opts),
    fallback: fallbackFor(routePolicy(opts, {}, 'safeBody() options')),
  }
  const document = opts.openapi === undefined ? undefined : openApiSource(opts.openapi, opts.ajv)
  const registry = createRegistry(opts.schemas, opts.ajv, document)
  const proto = opts.proto === undefined ? undefined : loadProto(opts.proto)
  // A null entry is a route that takes no body: it shadows any pattern that would take one.
  const table = routeTable(
    mergeRoutes(document?.routes, opts.routes).map(([key, binding]) => {
      parseRouteKey(key)
      return [key, binding === null ? null : bind(key, binding, opts, registry, proto)] as const
    }),
  )
  const middleware = handler(
    (req) => table.find(req.method ?? 'GET', req.path) ?? undefined,
    judge,
    false,
  ) as SafeBodyMiddleware<Bodies>
  middleware.route = ((binding: string | RouteBinding | JsonSchema) => {
    const fixed = bind(describe(binding), asBinding(binding), opts, registry, proto)
    return handler(() => fixed, judge, true)
  }) as SafeBodyMiddleware<Bodies>['route']
  middleware.stats = () => judge.log.stats()
  return middleware
}

function bind(
  key: string,
  binding: string | RouteBinding,
  global: RouteSettings & Pick<SafeBodyOptions, 'formats'>,
  registry: SchemaRegistry,
  proto: ProtoRegistry | undefined,
): CompiledRoute {
  const where = `route "${key}"`
  const full: RouteBinding = typeof binding === 'string' ? { schema: binding } : binding
  if (typeof full !== 'object' || full === null || !('schema' in full)) {
    throw new TypeError(`safebody: ${where} must name a schema id or be { schema, ... }`)
  }
  const { schema, ...rest } = full
  const policy = routePolicy(global, rest, where)
  try {
    return compileRoute(key, schema, policy, registry, proto)
  } catch (cause) {
    throw new Error(`${(cause as Error).message} (bound to ${where})`, { cause })
  }
}

// route() promises the next handler a body of the schema's type, so a request without one
// is refused unless the binding opts out with `required: false`.
function asBinding(binding: string | RouteBinding | JsonSchema): RouteBinding {
  if (typeof binding === 'string') return { schema: binding, required: true }
  if (typeof binding === 'object' && binding !== null && Object.hasOwn(binding, 'schema')) {
    return { required: true, ...(binding as RouteBinding) }
  }
  return { schema: binding as JsonSchema, required: true }
}

function describe(binding: string | RouteBinding | JsonSchema): string {
  const schema =
    typeof binding === 'object' && binding !== null ? (binding as RouteBinding).schema : binding
  return typeof schema === 'string' ? `route(${schema})` : 'route(inline schema)'
}

/** What every handler of one `safeBody()` instance shares besides the schemas. */
interface Judge {
  readonly log: ViolationLog
  readonly fallback: Fallback
}

function handler(
  find: (req: Request) => CompiledRoute | undefined,
  judge: Judge,
  perRoute: boolean,
): BodyHandler {
  return (incoming, res, next) => {
    const req = incoming as Request & { [taken]?: IntegrityPolicy | true; _body?: boolean }
    if (req[taken]) {
      // Whoever took the body must have checked the signature this route requires.
      const integrity = find(req)?.policy.integrity
      if (!integrity || req[taken] === integrity) return next()
      return next(
        createError(500, 'safebody read this body before the signature check', { expose: false }),
      )
    }
    if (req._body || req.readableEnded) {
      // Another body parser consumed the stream: the body can no longer be checked here.
      return next(
        createError(500, 'safebody must run before any other body parser', { expose: false }),
      )
    }
    const route = find(req)
    const facts: RequestFacts = {
      req,
      route: route === undefined ? null : routeName(req, route, perRoute),
      schema: route?.schema ?? null,
      mode: (route?.policy ?? judge.fallback.policy).mode,
      format: null,
      body: null,
    }
    const report = (err: BodyError) => judge.log.record(err, 'reported', facts)
    const fail = (err: unknown) => {
      if (isBodyError(err)) judge.log.record(err, 'refused', facts)
      refuse(req, res, next, err)
    }
    let plan: BodyPlan
    try {
      plan = planRequest(req, route, judge.fallback, report)
    } catch (err) {
      return fail(err)
    }
    req[taken] = plan.signature?.integrity ?? true
    const { format } = plan
    if (format === unread) return next()
    if (format === noBody) {
      try {
        settleNoBody(plan)
      } catch (err) {
        return fail(err)
      }
      return next()
    }
    facts.format = format.name
    readBody(req, plan.policy.read).then((bytes) => {
      facts.body = bytes
      let value: unknown
      try {
        value = settleBody(bytes, plan, format, report)
      } catch (err) {
        return fail(err)
      }
      if (value !== noBody) {
        req.body = value
        req._body = true
      }
      next()
    }, fail)
  }
}

/** A per-route handler is named by its Express route (`'POST /hooks'`) when there is one. */
function routeName(req: Request, route: CompiledRoute, perRoute: boolean): string {
  if (!perRoute) return route.route
  const path = (req as { route?: { path?: unknown } }).route?.path
  return typeof path === 'string' ? `${req.method} ${path}` : route.route
}

/**
 * Pass the refusal on. If the client is still sending, the connection is closed after the
 * response instead of being drained: a body refused unread is never read.
 */
export function refuse(req: IncomingMessage, res: ServerResponse, next: Next, err: unknown): void {
  if (!req.complete && !res.headersSent) {
    res.setHeader('Connection', 'close')
    res.once('finish', () => {
      setTimeout(() => req.socket?.destroy(), LINGER_MS).unref()
    })
  }
  next(err)
}

function isShortForm(options: object): options is RouteSchemas {
  const keys = Object.keys(options)
  if (keys.length === 0 || !keys.every((k) => /^[A-Za-z]+\s+\//.test(k))) return false
  return true
}

function expandShortForm(routes: RouteSchemas): SafeBodyOptions {
  return {
    schemas: { ...routes },
    routes: Object.fromEntries(Object.keys(routes).map((k) => [k, k])),
  }
}
