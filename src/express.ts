import type { IncomingMessage, ServerResponse } from 'node:http'
import createError from 'http-errors'
import { refuse } from './core/connection.js'
import { type BodyCallback, type BodyScope, noBody, takeBody, unread } from './core/body.js'
import { type BindingSpec, createEngine, type RouteSchemas } from './core/engine.js'
import type { IntegrityPolicy } from './core/integrity.js'
import type { RouteBinding, SafeBodyMode, SafeBodyOptions } from './core/options.js'
import type { BodySchema } from './core/registry.js'
import type { CompiledRoute } from './core/route.js'
import type { ViolationStats } from './core/violations.js'
import type { BindingBody, BodyOf, IdBody, TypedBinding, TypedBodyHandler } from './typed.js'
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
   * handlers' `req.body`: from the schema (a Standard Schema's output, TypeBox or a `const`
   * JSON Schema), from `Bodies` for a schema id, else `unknown`.
   *
   * @example
   * app.post('/users', bodies.route(user), (req, res) => res.json(req.body.name))
   */
  route<const Id extends string>(id: Id): TypedBodyHandler<IdBody<Bodies, Id>>
  route<const B extends TypedBinding>(binding: B): TypedBodyHandler<BindingBody<Bodies, B>>
  route<const S extends BodySchema>(schema: S): TypedBodyHandler<BodyOf<S>>
  route(binding: string | RouteBinding | BodySchema): TypedBodyHandler<unknown>
  /** A snapshot of the refusal and report counters, by route, format, type and action. */
  stats(): ViolationStats
}

export type { RouteSchemas }

/**
 * Which signature check a body safebody handed on passed, kept by request so that a second
 * instance (a global and a per-route one) neither reads the body again nor skips a check it
 * requires. A side table, not a property: see `marksBody`.
 */
class Taken {
  constructor(readonly integrity: IntegrityPolicy | null) {}
}
const takenMarks = new Map<IntegrityPolicy | null, Taken>()
function takenMark(integrity: IntegrityPolicy | null): Taken {
  let mark = takenMarks.get(integrity)
  if (mark === undefined) takenMarks.set(integrity, (mark = new Taken(integrity)))
  return mark
}
const taken = new WeakMap<object, Taken>()

/**
 * Whether to set `req._body`, body-parser 1's "already parsed" flag, on a body handed on.
 * body-parser 1 (Express 4's parser) skips a request so flagged and fails on a stream already
 * read; body-parser 2 (Express 5's `express.json()`) sets no flag and skips a request whose
 * stream has ended. safebody does as the parser it stands in for: the flag everywhere but
 * Express 5, and in report mode everywhere, since report mode sits in front of the
 * application's own parser, whichever it is. Not writing it on Express 5 matters: Node 20 and
 * 22 give every property added to an Express request (its prototype was replaced) a new
 * hidden class, about 2.5 us each, and express.json() adds one, `body`, as safebody then does.
 */
function marksBody(req: object, mode: SafeBodyMode): boolean {
  if (mode === 'report') return true
  const proto = Object.getPrototypeOf(req) as ExpressRequestProto | null
  if (proto === null) return true
  let express5 = express5Protos.get(proto)
  if (express5 === undefined) {
    // Express 5's request has `app` (a function) and, unlike Express 4's, no `param()`.
    express5 = typeof proto.app === 'function' && typeof proto.param !== 'function'
    express5Protos.set(proto, express5)
  }
  return !express5
}
interface ExpressRequestProto {
  app?: unknown
  param?: unknown
}
const express5Protos = new WeakMap<object, boolean>()

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
  const engine = createEngine(options)
  const middleware = handler(
    (req) => engine.find(req.method ?? 'GET', req.path),
    engine.scope,
  ) as SafeBodyMiddleware<Bodies>
  // A per-route handler is named by its Express route (`'POST /hooks'`) when there is one.
  const perRoute: BodyScope = { ...engine.scope, name: expressRouteName }
  middleware.route = ((binding: BindingSpec) => {
    const fixed = engine.bind(binding)
    return handler(() => fixed, perRoute)
  }) as SafeBodyMiddleware<Bodies>['route']
  middleware.stats = () => engine.stats()
  return middleware
}

function expressRouteName(request: { method: string }, route: CompiledRoute): string {
  const path = (request as { route?: { path?: unknown } }).route?.path
  return typeof path === 'string' ? `${request.method} ${path}` : route.route
}

type TakenRequest = Request & { _body?: unknown }

function handler(find: (req: Request) => CompiledRoute | undefined, scope: BodyScope): BodyHandler {
  return (incoming, res, next) => {
    const req = incoming as TakenRequest
    const prior = taken.get(req)
    if (prior !== undefined) {
      // Whoever took the body must have checked the signature this route requires.
      const integrity = find(req)?.policy.integrity
      if (!integrity || prior.integrity === integrity) return next()
      return next(
        createError(500, 'safebody read this body before the signature check', { expose: false }),
      )
    }
    const route = find(req)
    const done: BodyCallback = (err, value, integrity) => {
      if (err !== null && err !== undefined) return refuse(req, res, next, consumedBy(req, err))
      if (value !== noBody && value !== unread) {
        req.body = value
        taken.set(req, takenMark(integrity ?? null))
        if (marksBody(req, (route?.policy ?? scope.fallback.policy).mode)) req._body = true
      }
      next()
    }
    // Express's req has method, path and headers: it is the request the core reads.
    takeBody(scope, route, req as TakenRequest & { method: string }, req, done)
  }
}

/**
 * The core refuses a stream that can no longer be read (raw-body's 500 `stream.not.readable`).
 * Here that has one usual cause, said plainly: another body parser read it first.
 */
function consumedBy(req: IncomingMessage, err: unknown): unknown {
  if ((err as { type?: unknown }).type !== 'stream.not.readable' || !req.readableEnded) return err
  return createError(500, 'safebody must run before any other body parser', { expose: false })
}
