import type { DefaultContext, DefaultState, Middleware, ParameterizedContext } from 'koa'
import {
  type BodyCallback,
  type BodyScope,
  noBody,
  parsedElsewhere,
  retakeBody,
  takeBody,
  takenBodies,
  unread,
} from './core/body.js'
import { closeUnread, connectionHeaders } from './core/connection.js'
import { type BindingSpec, createEngine, type RouteSchemas } from './core/engine.js'
import type { RouteBinding, SafeBodyOptions } from './core/options.js'
import type { BodySchema } from './core/registry.js'
import type { CompiledRoute } from './core/route.js'
import type { ViolationStats } from './core/violations.js'
import { type ProblemDetailsOptions, toProblem } from './problem.js'
import type { BindingBody, BodyOf, IdBody, OnlyBinding, TypedBinding } from './typed.js'

/** Koa middleware whose later middleware see `ctx.request.body` typed as `Body`. */
export type KoaBodyMiddleware<Body = unknown> = Middleware<
  DefaultState,
  DefaultContext & { request: { body: Body } }
>

/** The middleware `safeBody()` returns: bodies checked against the route table. */
export interface SafeBodyKoaMiddleware<
  Bodies extends object = Record<never, never>,
> extends KoaBodyMiddleware {
  /**
   * A middleware for one route (with @koa/router), sharing this instance's schemas and
   * limits. It requires a body unless the binding says `required: false`, and types
   * `ctx.request.body` from the schema, from `Bodies` for a schema id, else `unknown`.
   *
   * @example
   * router.post('/users', bodies.route(user), (ctx) => { ctx.body = ctx.request.body.name })
   */
  route<const Id extends string>(id: Id): KoaBodyMiddleware<IdBody<Bodies, Id>>
  route<const B extends TypedBinding>(
    binding: OnlyBinding<B>,
  ): KoaBodyMiddleware<BindingBody<Bodies, B>>
  route<const S extends BodySchema>(schema: S): KoaBodyMiddleware<BodyOf<S>>
  route(binding: string | RouteBinding | BodySchema): KoaBodyMiddleware
  /** A snapshot of the refusal and report counters, by route, format, type and action. */
  stats(): ViolationStats
}

type Ctx = ParameterizedContext<DefaultState, DefaultContext>

// How safebody took a body, so that a second instance (a global and a per-route one, of this
// build or the other) holds it to its own rules without reading it again.
const bodiesTaken = takenBodies<object>('koa')

/**
 * Create the Koa body middleware, with `safeBody()`'s options: routes are matched on the
 * method and `ctx.path`. The validated body goes to `ctx.request.body`; a refusal is thrown
 * as an http error (`status`, `expose` for 4xx, safebody's `type` and `detail`) for Koa's
 * error handling or `problemDetails()`.
 *
 * @example
 * app.use(problemDetails())
 * app.use(safeBody({ schemas: { user }, routes: { 'POST /users': 'user' } }))
 */
export function safeBody<Bodies extends object = Record<never, never>>(
  options: SafeBodyOptions | RouteSchemas = {},
): SafeBodyKoaMiddleware<Bodies> {
  const engine = createEngine(options)
  const middleware = handler(
    (ctx) => engine.find(ctx.method, ctx.path),
    engine.scope,
  ) as unknown as SafeBodyKoaMiddleware<Bodies>
  middleware.route = ((binding: BindingSpec) => {
    const fixed = engine.bind(binding)
    return handler(() => fixed, engine.scope)
  }) as SafeBodyKoaMiddleware<Bodies>['route']
  middleware.stats = () => engine.stats()
  return middleware
}

function handler(find: (ctx: Ctx) => CompiledRoute | undefined, scope: BodyScope): Middleware {
  return (ctx, next) => {
    const { req } = ctx
    const target = ctx.request as { body?: unknown }
    const prior = bodiesTaken.get(req)
    const route = find(ctx)
    // Another body parser consumed the stream, or another middleware set a body.
    if (prior === undefined && (target.body !== undefined || req.readableEnded)) {
      if (parsedElsewhere(req.headers, req, route)) target.body = undefined
    }
    const request = {
      method: ctx.method,
      path: ctx.path,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    }
    return new Promise<void>((resolve, reject) => {
      const done: BodyCallback = (err, value, taken) => {
        if (err !== null && err !== undefined) return reject(refusal(ctx, err))
        if (value !== noBody && value !== unread) target.body = value
        // Koa has no "already parsed" flag but a body, and a taken body may leave none: an
        // empty one, or a schema whose output is `undefined`. The body parsers' own switch
        // tells them not to read the spent stream (a 500 "stream is not readable" otherwise).
        if (taken !== undefined) {
          bodiesTaken.set(req, taken)
          ctx.disableBodyParser = true
        }
        resolve()
      }
      // Another instance took the body: it is held to this binding too, not read again.
      if (prior !== undefined) retakeBody(scope, route, request, target.body, prior, done)
      else takeBody(scope, route, request, req, done)
    }).then(next)
  }
}

/**
 * A refusal before the whole body arrived: Connection: close, the socket cut after the
 * response, never drained. Koa's own error handling clears the response headers and sets the
 * error's `headers`, so the header travels on the error as well.
 */
function refusal(ctx: Ctx, err: unknown): unknown {
  if (!ctx.req.complete && connectionHeaders(ctx.req) && typeof err === 'object' && err !== null) {
    const headers = (err as { headers?: Record<string, string> }).headers
    ;(err as { headers?: Record<string, string> }).headers = { ...headers, connection: 'close' }
  }
  closeUnread(ctx.req, ctx.res)
  return err
}

/**
 * A Koa middleware, mounted first, that answers client errors thrown below it as RFC 9457
 * `application/problem+json`: safebody's refusals with their type, title, detail and
 * validation errors; other exposed 4xx errors with their status only. Anything else is
 * rethrown to Koa's error handling.
 *
 * @example
 * app.use(problemDetails())
 */
export function problemDetails(options: ProblemDetailsOptions = {}): Middleware {
  const typeBase = options.typeBase ?? ''
  if (typeof typeBase !== 'string') throw new TypeError('safebody: typeBase must be a string')
  return async (ctx, next) => {
    try {
      await next()
    } catch (err) {
      const problem = toProblem(err, typeBase)
      if (problem === undefined || ctx.headerSent) throw err
      ctx.status = problem.status
      ctx.set('Content-Type', 'application/problem+json; charset=utf-8')
      ctx.body = JSON.stringify(problem)
    }
  }
}

/**
 * The body a global `safeBody()` validated, for middleware after it on the app: Koa's app
 * context type cannot carry a middleware's `ctx.request.body` to later middleware, and
 * @types/koa declares none. `undefined` when the request had none. `Body` is asserted, not
 * checked: the per-route `route()` types `ctx.request.body` instead.
 *
 * @example
 * app.use(safeBody(options))
 * app.use((ctx) => { const user = validBody<User>(ctx) })
 */
export function validBody<Body = unknown>(ctx: { readonly request: object }): Body | undefined {
  return (ctx.request as { body?: unknown }).body as Body | undefined
}

export type { ProblemDetailsOptions, ProblemDocument } from './problem.js'
export type { BodiesOf, BodyOf } from './typed.js'
export type { RouteSchemas, SafeBodyOptions }
