import { AsyncResource } from 'node:async_hooks'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { closeUnread } from './core/connection.js'
import {
  type BodyCallback,
  type BodyRequest,
  type BodyScope,
  isTakenBody,
  noBody,
  parsedElsewhere,
  retakeBody,
  takeBody,
} from './core/body.js'
import { type BindingSpec, createEngine, type RouteSchemas } from './core/engine.js'
import type { RouteBinding, SafeBodyOptions } from './core/options.js'
import type { BodySchema } from './core/registry.js'
import type { CompiledRoute } from './core/route.js'
import type { ViolationStats } from './core/violations.js'
import type { HeaderBag } from './core/request.js'
import { readyForAdds, unsharedShapes } from './core/shape.js'
import type {
  BindingBody,
  BodyOf,
  IdBody,
  OnlyBinding,
  TypedBinding,
  TypedBodyHandler,
} from './typed.js'
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
  route<const B extends TypedBinding>(
    binding: OnlyBinding<B>,
  ): TypedBodyHandler<BindingBody<Bodies, B>>
  route<const S extends BodySchema>(schema: S): TypedBodyHandler<BodyOf<S>>
  route(binding: string | RouteBinding | BodySchema): TypedBodyHandler<unknown>
  /** A snapshot of the refusal and report counters, by route, format, type and action. */
  stats(): ViolationStats
}

export type { RouteSchemas }

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
    // Read as ExpressRequest says.
    (req) =>
      unsharedShapes
        ? engine.find(
            (Reflect.get(req, 'method') as string | undefined) ?? 'GET',
            Reflect.get(req, 'path') as string,
          )
        : engine.find(req.method ?? 'GET', req.path),
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

function expressRouteName(request: BodyRequest, route: CompiledRoute): string {
  const path = (request as ExpressRequest).req.route?.path
  return typeof path === 'string' ? `${request.method} ${path}` : route.route
}

type TakenRequest = Request & { _body?: unknown; route?: { path?: unknown } }

/**
 * Express's request as the core reads it: the headers read once, the method and path only
 * if a refusal is recorded (a global instance's route lookup reads them itself).
 *
 * Why not `req` itself: on Node 20 to 23, every Express request has a hidden class of its
 * own (Express replaces its prototype, then adds properties, and V8 shares no transition
 * made after a prototype change), so each property load at a fixed site misses its inline
 * cache on every request: 0.45-0.5 us a load on Node 20. `Reflect.get` makes one generic
 * lookup instead (0.07-0.2 us), and the core then reads this object's fields from its cache.
 * With the reads in read.ts, this took the small yardstick body from 399k to 378k
 * instructions a request (valgrind; the reference middleware takes 338k). Node 24 shares
 * those hidden classes, and there plain loads are cheaper (`unsharedShapes`).
 */
class ExpressRequest implements BodyRequest {
  readonly headers: HeaderBag
  readonly rawHeaders: readonly string[] | undefined
  constructor(readonly req: TakenRequest) {
    if (unsharedShapes) {
      this.headers = Reflect.get(req, 'headers') as HeaderBag
      this.rawHeaders = Reflect.get(req, 'rawHeaders') as readonly string[] | undefined
    } else {
      this.headers = req.headers
      this.rawHeaders = req.rawHeaders
    }
  }
  get method(): string {
    return this.req.method ?? 'GET'
  }
  get path(): string {
    return this.req.path
  }
}

function handler(find: (req: Request) => CompiledRoute | undefined, scope: BodyScope): BodyHandler {
  return (incoming, res, next) => {
    const req = incoming as TakenRequest
    // Read as ExpressRequest says, past the inline caches this request misses: the flag is
    // an own property wherever it is set (body-parser, safebody), so only req's own are looked
    // up, not its six prototypes.
    const prior: unknown = Object.hasOwn(req, '_body') ? req._body : undefined
    const finish: BodyCallback = (err, value, taken) => {
      // The core hands a refusal on once the bytes received are parsed (afterParse).
      if (err !== null && err !== undefined) {
        closeUnread(req, res)
        return next(err)
      }
      if (taken !== undefined) {
        // Makes the adds below, and the application's after them, cheap on Node 20 to 23.
        readyForAdds(req)
        // An empty body read from the stream is none, but taken all the same.
        if (value !== noBody) req.body = value
        // body-parser's "already parsed" flag, read for its truthiness: how the body was
        // taken, so that a second instance holds it to its own rules without reading it
        // again. One property write, the only one besides `req.body`.
        req._body = taken
      }
      next()
    }
    // Called back later, from the stream's events, `finish` runs in the middleware's async
    // context, as raw-body's callback does: an AsyncLocalStorage store (a tracing span, a
    // request id) set before safebody reaches the handlers after it.
    let answered = false
    let context: AsyncResource | null = null
    const done: BodyCallback = (err, value, taken) => {
      answered = true
      if (context === null) finish(err, value, taken)
      else context.runInAsyncScope(finish, null, err, value, taken)
    }
    const request = new ExpressRequest(req)
    const route = find(req)
    // Another instance took the body: it is held to this instance's rules too, not read again.
    if (isTakenBody(prior)) retakeBody(scope, route, request, req.body, prior, done)
    else {
      // Another body parser consumed the stream (a parser behind a global instance reads a
      // `Content-Length: 0` body too).
      if (
        prior ||
        (unsharedShapes ? Reflect.get(req, 'readableEnded') : req.readableEnded) === true
      ) {
        try {
          if (parsedElsewhere(request.headers, req, route)) req.body = undefined
        } catch (err) {
          return next(err)
        }
      }
      takeBody(scope, route, request, req, done)
    }
    if (!answered) context = new AsyncResource('safebody')
  }
}
