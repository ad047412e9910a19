import type { IncomingMessage, ServerResponse } from 'node:http'
import createError from 'http-errors'
import {
  checkOptionKeys,
  type LimitOptions,
  type RouteBinding,
  routePolicy,
  type SafeBodyOptions,
} from './options.js'
import {
  absentBody,
  acceptBody,
  type CompiledRoute,
  compileRoute,
  noBody,
  planBody,
} from './pipeline.js'
import { loadProto, type ProtoRegistry } from './proto.js'
import { readBody } from './read.js'
import { createRegistry, type JsonSchema, type SchemaRegistry } from './registry.js'
import { parseRouteKey, routeTable } from './routes.js'

/** The slice of Express's request the adapter needs; Express 4 and 5 both provide it. */
interface Request extends IncomingMessage {
  path: string
  body?: unknown
}
type Next = (err?: unknown) => void

/** An Express middleware (Express 4 and 5). */
export type BodyHandler = (req: IncomingMessage, res: ServerResponse, next: Next) => void

/** The middleware `safeBody()` returns: bodies checked against the route table. */
export interface SafeBodyMiddleware extends BodyHandler {
  /** A middleware for one route, sharing this instance's compiled schemas and limits. */
  route(binding: string | RouteBinding | JsonSchema): BodyHandler
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
export function safeBody(options: SafeBodyOptions | RouteSchemas = {}): SafeBodyMiddleware {
  const opts = isShortForm(options) ? expandShortForm(options) : (options as SafeBodyOptions)
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError('safebody: options must be an object')
  }
  checkOptionKeys(opts)
  const registry = createRegistry(opts.schemas, opts.ajv)
  const proto = opts.proto === undefined ? undefined : loadProto(opts.proto)
  const table = routeTable(
    Object.entries(opts.routes ?? {}).map(([key, binding]) => {
      parseRouteKey(key)
      return [key, bind(key, binding, opts, registry, proto)] as const
    }),
  )
  const middleware = handler((req) =>
    table.find(req.method ?? 'GET', req.path),
  ) as SafeBodyMiddleware
  middleware.route = (binding) => {
    const fixed = bind(describe(binding), asBinding(binding), opts, registry, proto)
    return handler(() => fixed)
  }
  return middleware
}

function bind(
  key: string,
  binding: string | RouteBinding,
  global: LimitOptions & Pick<SafeBodyOptions, 'formats'>,
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

function asBinding(binding: string | RouteBinding | JsonSchema): string | RouteBinding {
  if (typeof binding === 'string') return binding
  if (typeof binding === 'object' && binding !== null && Object.hasOwn(binding, 'schema')) {
    return binding as RouteBinding
  }
  return { schema: binding as JsonSchema }
}

function describe(binding: string | RouteBinding | JsonSchema): string {
  const schema =
    typeof binding === 'object' && binding !== null ? (binding as RouteBinding).schema : binding
  return typeof schema === 'string' ? `route(${schema})` : 'route(inline schema)'
}

function handler(find: (req: Request) => CompiledRoute | undefined): BodyHandler {
  return (incoming, res, next) => {
    const req = incoming as Request & { [taken]?: true; _body?: boolean }
    if (req[taken]) return next()
    if (req._body) {
      // Another body parser consumed the stream: the body can no longer be checked here.
      return next(
        createError(500, 'safebody must run before any other body parser', { expose: false }),
      )
    }
    const route = find(req)
    let format: ReturnType<typeof planBody>
    try {
      format = planBody(req, route)
    } catch (err) {
      return refuse(req, res, next, err)
    }
    req[taken] = true
    if (format === noBody || route === undefined) return next()
    readBody(req, route.policy.read).then(
      (bytes) => {
        let value: unknown
        try {
          value = bytes.length === 0 ? absentBody(route) : acceptBody(bytes, format, route)
        } catch (err) {
          return refuse(req, res, next, err)
        }
        if (value !== noBody) {
          req.body = value
          req._body = true
        }
        next()
      },
      (err: unknown) => refuse(req, res, next, err),
    )
  }
}

/**
 * Pass the refusal on. If the client is still sending, the connection is closed after the
 * response instead of being drained: a body refused unread is never read.
 */
function refuse(req: IncomingMessage, res: ServerResponse, next: Next, err: unknown): void {
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
