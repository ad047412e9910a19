import type { IncomingMessage, ServerResponse } from 'node:http'
import createError from 'http-errors'
import type { Context, Env, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import {
  type BodyCallback,
  type BodyScope,
  type BodySource,
  noBody,
  retakeBody,
  takeBody,
  type TakenBody,
  takenBodies,
  unread,
} from './core/body.js'
import { closeUnread, connectionHeaders } from './core/connection.js'
import { type BindingSpec, createEngine, type RouteSchemas } from './core/engine.js'
import type { RouteBinding, SafeBodyOptions } from './core/options.js'
import type { BodySchema } from './core/registry.js'
import { codingOf, hasBody } from './core/read.js'
import type { HeaderBag } from './core/request.js'
import type { CompiledRoute } from './core/route.js'
import type { ViolationStats } from './core/violations.js'
import { type ProblemDetailsOptions, toProblem } from './problem.js'
import type {
  BindingBody,
  BindingInput,
  BodyOf,
  IdBody,
  InputOf,
  OnlyBinding,
  TypedBinding,
} from './typed.js'

/**
 * Hono middleware whose handlers read the validated body with `c.req.valid('json')`, typed
 * `Body`, as after Hono's own `validator('json', ...)`; Hono's client (`hc`) sends `Input`,
 * what the schema accepts before its transforms and defaults.
 */
export type HonoBodyMiddleware<Body = unknown, Input = Body> = MiddlewareHandler<
  Env,
  string,
  { in: { json: Input }; out: { json: Body } }
>

/** The middleware `safeBody()` returns: bodies checked against the route table. */
export interface SafeBodyHonoMiddleware<
  Bodies extends object = Record<never, never>,
> extends HonoBodyMiddleware {
  /**
   * A middleware for one route, sharing this instance's schemas and limits. It requires a
   * body unless the binding says `required: false`, and types `c.req.valid('json')` from the
   * schema, from `Bodies` for a schema id, else `unknown`.
   *
   * @example
   * app.post('/users', bodies.route(user), (c) => c.json(c.req.valid('json').name))
   */
  route<const Id extends string>(id: Id): HonoBodyMiddleware<IdBody<Bodies, Id>>
  route<const B extends TypedBinding>(
    binding: OnlyBinding<B>,
  ): HonoBodyMiddleware<BindingBody<Bodies, B>, BindingInput<Bodies, B>>
  route<const S extends BodySchema>(schema: S): HonoBodyMiddleware<BodyOf<S>, InputOf<S>>
  route(binding: string | RouteBinding | BodySchema): HonoBodyMiddleware
  /** A snapshot of the refusal and report counters, by route, format, type and action. */
  stats(): ViolationStats
}

// How safebody took a body, so that a second instance (a global and a per-route one, of this
// build or the other) holds it to its own rules without reading it again.
const bodiesTaken = takenBodies<Request>('hono')

/**
 * Hono's routers tell `/Users` from `/users` and `/users/` from `/users` (an app made with
 * `strict: false` has the trailing slash dropped from `c.req.path` already).
 */
const HONO_ROUTING = { caseSensitive: true, strict: true } as const

/**
 * Create the Hono body middleware, with `safeBody()`'s options: routes are matched on the
 * method and `c.req.path`, case-sensitively and with a trailing slash told apart, as Hono
 * routes. It reads `c.req.raw`'s Web stream; the validated body is stored as
 * Hono's validated `json`, for `c.req.valid('json')`. A refusal is thrown as an
 * `HTTPException` whose response is the RFC 9457 problem document (status, safebody's `type`,
 * detail); its `cause` is the catalogued error.
 *
 * @example
 * app.use(safeBody({ schemas: { user }, routes: { 'POST /users': 'user' } }))
 */
export function safeBody<Bodies extends object = Record<never, never>>(
  options: SafeBodyOptions | RouteSchemas = {},
  problem: ProblemDetailsOptions = {},
): SafeBodyHonoMiddleware<Bodies> {
  const engine = createEngine(options, HONO_ROUTING)
  const typeBase = problem.typeBase ?? ''
  if (typeof typeBase !== 'string') throw new TypeError('safebody: typeBase must be a string')
  const middleware = handler(
    (c) => {
      const path = pathInApp(c)
      return path === null ? undefined : engine.find(c.req.method, path)
    },
    engine.scope,
    typeBase,
  ) as SafeBodyHonoMiddleware<Bodies>
  middleware.route = ((binding: BindingSpec) => {
    const fixed = engine.bind(binding)
    return handler(() => fixed, engine.scope, typeBase)
  }) as SafeBodyHonoMiddleware<Bodies>['route']
  middleware.stats = () => engine.stats()
  return middleware
}

function handler(
  find: (c: Context) => CompiledRoute | undefined,
  scope: BodyScope,
  typeBase: string,
): HonoBodyMiddleware {
  return async (c, next) => {
    const raw = c.req.raw
    const prior = bodiesTaken.get(raw)
    if (prior === undefined && raw.bodyUsed) {
      // Another body reader consumed the stream: the body can no longer be checked here. A
      // server fault, not an HTTPException: Hono's error handling logs it and answers a bare
      // 500, its message for the logs only.
      throw createError(500, 'safebody must run before any other body reader', { expose: false })
    }
    // On @hono/node-server, Node's own request: its header lines show a repeated Content-Type,
    // which fetch's Headers joins into one value, and its headers keep the first line, as
    // every other adapter reads them (report mode decodes the body by it).
    const incoming = nodeRequestOf(raw, c)
    const headers = incoming?.headers ?? headerBag(raw.headers)
    const request = {
      method: c.req.method,
      path: c.req.path,
      headers,
      rawHeaders: incoming?.rawHeaders,
    }
    // Kept beside the promise, not resolved through it: a body that is a thenable (a
    // schema's output) would be awaited.
    let value: unknown
    await new Promise<void>((resolve, reject) => {
      const done: BodyCallback = (err, body, taken) => {
        if (err !== null && err !== undefined) return reject(refusal(c, err, typeBase, incoming))
        // An empty body read from the stream is none, but taken all the same.
        if (taken !== undefined) {
          bodiesTaken.set(raw, taken)
          if (prior === undefined) cacheBytes(c, taken, headers)
        }
        value = body
        resolve()
      }
      // Another instance took the body: it is held to this binding too, not read again.
      if (prior !== undefined) retakeBody(scope, find(c), request, validBody(c), prior, done)
      else takeBody(scope, find(c), request, bodySource(incoming, raw, headers), done)
    })
    if (value !== noBody && value !== unread) c.req.addValidatedData('json', value as object)
    await next()
  }
}

/**
 * The bytes safebody read, in Hono's body cache, where Hono's own readers find a body once
 * its stream is spent: `c.req.json()`, `text()`, `arrayBuffer()`, `parseBody()` and Hono's
 * validators read the bytes safebody checked (parsed again by Hono: not the value its schema
 * handed on), instead of failing on the spent stream. Copied into an `ArrayBuffer` only when
 * one asks (a getter). Not a compressed body's: its inflated bytes would not match its
 * Content-Encoding and Content-Length, which Hono's clone of the request keeps.
 */
function cacheBytes(c: Context, taken: TakenBody, headers: HeaderBag): void {
  const cache = (c.req as unknown as { bodyCache?: Record<string, unknown> }).bodyCache
  if (codingOf(headers['content-encoding']) !== 'identity') return
  // Also a body read to find it empty, or none read (taken for its signature): empty bytes.
  if (typeof cache !== 'object' || cache === null) return
  if (Object.keys(cache).length > 0) return
  let copy: Promise<ArrayBuffer> | undefined
  const read = (): ArrayBuffer => {
    // A body that came in chunks is joined here, the first time (see `TakenBody.bytes`).
    const bytes = taken.bytes ?? Buffer.alloc(0)
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  }
  Object.defineProperty(cache, 'arrayBuffer', {
    configurable: true,
    enumerable: true,
    get: () => (copy ??= Promise.resolve().then(read)),
    set: (value: unknown) => {
      Object.defineProperty(cache, 'arrayBuffer', {
        configurable: true,
        enumerable: true,
        writable: true,
        value,
      })
    },
  })
}

/**
 * The path a global instance matches its keys on: `c.req.path` relative to the base path of
 * the Hono app the middleware is registered in (`app.route('/users', users)`,
 * `basePath('/v1')`, `app.route('/orgs/:org', org)`), as that app's own routes are written;
 * in the top-level app, the whole path. Null, for no binding (415 in enforce mode), where the
 * base cannot be told segment by segment (a wildcard, or a parameter with its own pattern,
 * which may span segments) or the path is not under it (an app whose `getPath` changes it).
 * Read through the request's own `matchedRoutes` and `routeIndex` (hono 4.13.8 and later: a
 * nested sub-app's routes hold its whole base from 4.13): the
 * `hono/route` helpers key on a symbol of their own build, which an app of Hono's other build
 * (ESM or CommonJS) does not carry.
 */
function pathInApp(c: Context): string | null {
  const req = c.req as unknown as {
    readonly path: string
    readonly routeIndex: number
    readonly matchedRoutes?: ReadonlyArray<{ readonly basePath?: string }>
  }
  const { path } = req
  const base = req.matchedRoutes?.[req.routeIndex]?.basePath ?? '/'
  if (base === '/' || base === '') return path
  if (/[*{}()]/.test(base)) return null
  const segments = base.split('/').filter((segment) => segment !== '')
  const under = path === base || path.startsWith(base.endsWith('/') ? base : `${base}/`)
  if (!base.includes(':') && !under) return null
  // A parameter matches one segment: the base is as many segments of the path.
  let at = 0
  for (let i = 0; i < segments.length; i++) {
    at = path.indexOf('/', at + 1)
    if (at === -1) return '/'
  }
  return path.slice(at)
}

/**
 * The body a global `safeBody()` validated, for handlers that Hono's types cannot tell it ran
 * before (`app.use()` does not carry a middleware's input to later routes); `undefined` when
 * the request had none. `Body` is asserted, not checked: per-route `route()` types it instead.
 *
 * @example
 * app.use(safeBody(options))
 * app.post('/users', (c) => c.json(validBody<User>(c)))
 */
export function validBody<Body = unknown>(c: Context): Body | undefined {
  return (c.req as unknown as { valid(target: 'json'): Body | undefined }).valid('json')
}

/**
 * Where the body is read from. On @hono/node-server, Node's request decides whether there is
 * one (HTTP/1.1 by its headers, HTTP/2 by its stream), and a GET or HEAD body, which the Fetch
 * API drops, is read from it. Elsewhere the `Request`'s body stream, which is null when there
 * is none; a body sent without Content-Length (HTTP/2, chunked, `app.request()`) is read all
 * the same. With none, nothing (a declared body that never arrives is a length mismatch).
 */
function bodySource(
  incoming: IncomingMessage | undefined,
  raw: Request,
  headers: HeaderBag,
): BodySource {
  if (incoming === undefined) return raw.body ?? EMPTY
  return hasBody(headers, incoming) ? (raw.body ?? incoming) : EMPTY
}

const EMPTY = new Uint8Array(0)

/** The Web `Headers` as the core's header bag: lower-case names, repeated values joined. */
function headerBag(headers: Headers): HeaderBag {
  const bag: Record<string, string> = {}
  headers.forEach((value, name) => {
    bag[name] = value
  })
  return bag
}

/**
 * Node's request, when `raw` is the Request @hono/node-server made of it. A Request made
 * anew keeps `c.env` (Hono's methodOverride and `app.mount()`, an internal `app.fetch()`),
 * but it is read as any Web Request: its method, headers and body belong together, Node's do
 * not. (A GET or HEAD made anew has no body in the Fetch API: one its Content-Length still
 * declares is refused with 400 `request.size.invalid`.)
 */
function nodeRequestOf(raw: Request, c: Context): IncomingMessage | undefined {
  const { incoming } = (c.env ?? {}) as NodeBindings
  if (incoming === undefined) return undefined
  // node-server keeps its IncomingMessage under a symbol of its own (not exported): found
  // once, by its description and its value, then read directly.
  const own = raw as unknown as Record<symbol, unknown>
  if (incomingKey === undefined) {
    incomingKey = Object.getOwnPropertySymbols(raw).find(
      (key) => key.description === 'incomingKey' && own[key] === incoming,
    )
  }
  return incomingKey !== undefined && own[incomingKey] === incoming ? incoming : undefined
}

let incomingKey: symbol | undefined

/** Node's request and response, where the server gives them (@hono/node-server's bindings). */
interface NodeBindings {
  incoming?: IncomingMessage
  outgoing?: ServerResponse
}

/**
 * A refusal as an `HTTPException` answering problem+json. On @hono/node-server, a request
 * refused before its body fully arrived is answered with Connection: close and its socket cut
 * after the response, never drained: only the Request node-server made (`incoming`, from
 * `nodeRequestOf`). A Request made anew (an internal `app.fetch()`) shares `c.env` with the
 * request it was made in, whose connection is not its to close.
 */
function refusal(
  c: Context,
  err: unknown,
  typeBase: string,
  incoming: IncomingMessage | undefined,
): unknown {
  const problem = toProblem(err, typeBase)
  if (problem === undefined) return err
  const { outgoing } = (c.env ?? {}) as NodeBindings
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json; charset=utf-8',
  }
  if (incoming?.complete === false && outgoing !== undefined) {
    closeUnread(incoming, outgoing)
    if (connectionHeaders(incoming)) headers.connection = 'close'
  }
  const res = new Response(JSON.stringify(problem), { status: problem.status, headers })
  return new HTTPException(problem.status as ContentfulStatusCode, {
    res,
    message: problem.detail ?? problem.title,
    cause: err,
  })
}

export type { ProblemDetailsOptions, ProblemDocument } from './problem.js'
export type { BodiesOf, BodyOf, InputOf } from './typed.js'
export type { RouteSchemas, SafeBodyOptions }
