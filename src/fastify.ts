import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyRequest,
  FastifySchema,
  FastifySchemaCompiler,
  preValidationHookHandler,
  RouteOptions,
} from 'fastify'
import fp from 'fastify-plugin'
import {
  type BodyCallback,
  type BodyRequest,
  type BodyScope,
  type BodySource,
  dropBody,
  foreignBody,
  noBody,
  parsedElsewhere,
  retakeBody,
  takeBody,
  unread,
} from './core/body.js'
import { type BodyEngine, createEngine } from './core/engine.js'
import type { RouteBinding, RoutePolicy, SafeBodyOptions } from './core/options.js'
import type { BodySchema } from './core/registry.js'
import { hasBody, type ReadPolicy } from './core/read.js'
import { pathOf } from './core/request.js'
import type { CompiledRoute } from './core/route.js'
import { fastifyPattern } from './fastify-pattern.js'
import { afterParse, closeUnread, connectionHeaders } from './core/connection.js'
import { formats } from './decoders/formats.js'
import { bodyError, type BodyErrorType, isBodyError } from './errors.js'
import { type ProblemDetailsOptions, toProblem } from './problem.js'

/**
 * The plugin's options: `safeBody()`'s. A route's own `schema.body` is its binding, under
 * these settings; a `routes` key (or OpenAPI document) binds a route by its pattern, and a
 * route with both is held to both: the key's binding first, then `schema.body`.
 */
export type SafeBodyPluginOptions = SafeBodyOptions

/** A route's own settings for its `schema.body` (limits, formats, mode, integrity...). */
export type SafeBodyRouteConfig = Omit<RouteBinding, 'schema'>

declare module 'fastify' {
  interface FastifyContextConfig {
    /** safebody's settings for this route's `schema.body`: `{ limit, formats, mode, ... }`. */
    safebody?: SafeBodyRouteConfig
  }
}

// Where a route's bindings travel, by method: fastify copies the route's config into the
// request's. The first one takes the body; `kThen`, the route's own `schema.body` where a
// key binds it too, then holds what the first handed on to its own rules.
const kRoute = Symbol('safebody.route')
const kThen = Symbol('safebody.then')
// The methods for which a key says the route takes no body (and no schema.body binds it).
const kNone = Symbol('safebody.none')
type RouteBindings = Readonly<Record<string, CompiledRoute | undefined>>
type RouteConfig = {
  [kRoute]?: RouteBindings
  [kThen]?: RouteBindings
  [kNone]?: ReadonlySet<string>
}

/**
 * How a key's pattern compares with a route's URL: in case and trailing slash, as fastify
 * routes by default (`/users` and `/users/` are two routes). An app with `caseSensitive:
 * false` or `ignoreTrailingSlash` says so with `routing`.
 */
const FASTIFY_ROUTING = { caseSensitive: true, strict: true } as const

/**
 * A fastify plugin that takes over body parsing: every content type goes to safebody, which
 * reads, decodes, guards and validates the body against the route's `schema.body`, or a
 * binding in `routes` (both, where both bind the route), and refuses anything else (415 for a
 * type the route does not accept, a route with no binding, or a body another parser took on a
 * bound route). A body sent to a path fastify has no route for is read within
 * the limit and dropped, and fastify's 404 stands. Refusals reach the error handler with
 * `statusCode` and `type`. fastify's own validator skips `schema.body` on those routes: the
 * body is validated once.
 *
 * @example
 * await app.register(safebody, { limit: '1mb' })
 * app.post('/users', { schema: { body: user } }, async (req) => req.body)
 */
const safebodyPlugin: FastifyPluginCallback<SafeBodyPluginOptions> = (fastify, options, done) => {
  const engine = createEngine(options ?? {}, FASTIFY_ROUTING)
  fastify.removeAllContentTypeParsers()
  const bindings = new FastifyBindings(engine)
  const parse = bodyParser(bindings)
  // One parser for every content type; negotiation decides (415 for the rest). It is also
  // registered under a pattern of the media types the formats name: fastify remembers the
  // parser it found for a Content-Type, except when only '*' matched, and then parses the
  // header again on every request. A pattern, not the types themselves, so that a parser
  // registered after this plugin for one of them (as @fastify/formbody does) still wins.
  fastify.addContentTypeParser(formatTypes, parse)
  fastify.addContentTypeParser('*', parse)
  // The requests no parser took (bodiless, or GET, HEAD, TRACE): one hook on the instance, so
  // that it also holds the routes added to it before the plugin, which onRoute never saw
  // (fastify gives a route its instance's hooks when the server gets ready). It runs in
  // registration order with the app's own instance hooks, before any route-level one.
  fastify.addHook('preValidation', unparsedBody(bindings, parsedMethods(fastify)))
  fastify.addHook('onRoute', function bindRoute(this: FastifyInstance, route: RouteOptions) {
    const methods = [route.method].flat()
    const schema = route.schema?.body
    // fastify's bodyLimit holds as well as safebody's limit: the smaller one applies.
    const bodyLimit = route.bodyLimit ?? this.initialConfig.bodyLimit ?? Infinity
    const bindings: Record<string, CompiledRoute | undefined> = Object.create(null)
    const then: Record<string, CompiledRoute | undefined> = Object.create(null)
    // A `routes` binding belongs to the route fastify matched: the key with the route's own
    // method and URL pattern. Never the URL as sent, which fastify's router decodes, and
    // compares in case and trailing slash as its options say: that URL could name another
    // binding than the handler's. A route no key names and no schema.body binds takes no body.
    const pattern = fastifyPattern(route.url)
    // The methods a key names, a key that says the route takes no body (null) included.
    const keyed = new Set<string>()
    for (const method of methods) {
      const found = engine.byPattern(method, pattern)
      if (found !== undefined) keyed.add(method)
      if (found !== undefined && found !== null) bindings[method] = capped(found, bodyLimit)
    }
    // With schema.body, such a route refuses a body anyway: its key binds nothing before it.
    const none = new Set(
      schema === undefined
        ? methods.filter((method) => keyed.has(method) && !bindings[method])
        : [],
    )
    if (schema !== undefined) {
      // Required unless the route says otherwise, as fastify's own validator has it.
      const settings = route.config?.safebody ?? {}
      const name = `${methods.join(',')} ${route.url}`
      const binding = { ...settings, schema: schema as BodySchema }
      const compiled = capped(engine.bind(binding, name), bodyLimit)
      // Where a key binds the route too, the body is held to both, as a global instance and a
      // `.route()` one hold it elsewhere: the key's binding takes it, then schema.body (a key
      // that says the route takes no body refuses one, as an unbound route does).
      for (const method of methods) {
        if (keyed.has(method)) then[method] = compiled
        else bindings[method] = compiled
      }
      route.validatorCompiler = skipBody(this, route.validatorCompiler)
    }
    const config = { ...route.config, [kRoute]: bindings, [kThen]: then, [kNone]: none }
    route.config = config as typeof route.config
  })
  // A refusal before the whole body arrived: Connection: close, the socket closed after the
  // response (`closeUnread`), instead of Node draining the rest. fastify closes the
  // connection after any parser error, in case more of the body is to come; for one of ours
  // whose body has fully arrived the connection is kept as the request asked, as on every
  // other server, so that requests pipelined behind it are answered. A close fastify set on
  // the response itself (while it shuts down) stands. fastify refuses a Content-Type it
  // cannot parse itself, as soon as the headers are parsed: that answer waits, as safebody's
  // do, until the bytes received are parsed (`afterParse`), so that a body that came with its
  // headers is complete and the requests pipelined behind it are answered too.
  fastify.addHook('onError', (request, reply, error, next) => {
    if (!request.raw.complete && !isBodyError(error) && bodyRefusal(error) !== error) {
      return afterParse(() => {
        closeUnread(request.raw, reply.raw)
        next()
      })
    }
    if (
      isBodyError(error) &&
      reply.getHeader('connection') === 'close' &&
      reply.raw.getHeader('connection') === undefined
    ) {
      // fastify closes after any parser error, HTTP/2 included, where Node would warn.
      if (!connectionHeaders(request.raw)) reply.removeHeader('connection')
      else if (request.raw.complete) {
        reply.header('connection', reply.raw.shouldKeepAlive ? 'keep-alive' : 'close')
      }
    }
    closeUnread(request.raw, reply.raw)
    next()
  })
  done()
}

/** `route` with its read limit lowered to fastify's `bodyLimit`, where that is smaller. */
function capped(route: CompiledRoute, bodyLimit: number): CompiledRoute {
  const { policy } = route
  if (policy.read.limit <= bodyLimit) return route
  return { ...route, policy: cappedPolicy(policy, bodyLimit) }
}

function cappedPolicy(policy: RoutePolicy, bodyLimit: number): RoutePolicy {
  return { ...policy, read: bodyLimited(policy.read, bodyLimit) }
}

/** `read` with fastify's `bodyLimit` as its limit, which its refusals name. */
function bodyLimited(read: ReadPolicy, bodyLimit: number): ReadPolicy {
  return { ...read, limit: bodyLimit, limitSetting: 'bodyLimit' }
}

/**
 * The bindings requests are held to: a route's own, found when it was added; for a route added
 * before the plugin, the one its pattern finds on its first request, capped to the route's
 * `bodyLimit` as the others are; and report mode's fallback for unbound routes, capped too.
 */
class FastifyBindings {
  private readonly routes = new WeakMap<CompiledRoute, Map<number, CompiledRoute>>()
  private readonly scopes = new Map<number, BodyScope>()
  /** By route URL and method, for a route added before the plugin: its key (`byPattern`). */
  private readonly early = new Map<string, Map<string, CompiledRoute | null | undefined>>()

  constructor(private readonly engine: BodyEngine) {}

  /**
   * The binding a request to one of fastify's routes is held to: its route's, found when the
   * route was added (none where no key has its pattern); for a route added before the plugin,
   * the key its pattern finds.
   */
  binding(
    request: FastifyRequest,
    // fastify builds `routeOptions` anew on each read: read once by the caller.
    routeOptions = request.routeOptions,
  ): CompiledRoute | undefined {
    const { method } = request
    const own = (routeOptions.config as RouteConfig)[kRoute]
    if (own !== undefined) return own[method]
    const { url } = routeOptions
    if (url === undefined) return undefined
    let byMethod = this.early.get(url)
    if (byMethod === undefined) this.early.set(url, (byMethod = new Map()))
    // undefined: no key has its pattern; null: a key says it takes no body (`refusesForeign`).
    let found = byMethod.get(method)
    if (found === undefined && !byMethod.has(method)) {
      found = this.engine.byPattern(method, fastifyPattern(url))
      byMethod.set(method, found)
    }
    if (found === null || found === undefined) return undefined
    const { bodyLimit } = routeOptions
    if (found.policy.read.limit <= bodyLimit) return found
    let byLimit = this.routes.get(found)
    if (byLimit === undefined) this.routes.set(found, (byLimit = new Map()))
    let route = byLimit.get(bodyLimit)
    if (route === undefined) byLimit.set(bodyLimit, (route = capped(found, bodyLimit)))
    return route
  }

  /** The route's own `schema.body` binding, where a key binds the route first. */
  then(routeOptions: FastifyRequest['routeOptions'], method: string): CompiledRoute | undefined {
    return (routeOptions.config as RouteConfig)[kThen]?.[method]
  }

  /**
   * True where no binding holds the route, but a body another parser took must not pass
   * unchecked: a key says the route takes none, or every body must be signed (a global
   * `integrity`), which a body safebody did not read cannot be.
   */
  refusesForeign(routeOptions: FastifyRequest['routeOptions'], method: string): boolean {
    if (this.engine.scope.fallback.policy.integrity !== null) return true
    const config = routeOptions.config as RouteConfig
    if (config[kRoute] !== undefined) return config[kNone]?.has(method) === true
    // A route added before the plugin: as `binding` found its key.
    const { url } = routeOptions
    return url !== undefined && this.early.get(url)?.get(method) === null
  }

  /**
   * Read and drop the body of a request sent to a path fastify has no route for, so that
   * fastify's 404 stands (`dropBody`): under the options' limit and timeout, capped to the
   * `bodyLimit` of fastify's 404 route.
   */
  drop(request: FastifyRequest, source: IncomingMessage, done: (err: Error | null) => void): void {
    const { scope } = this.engine
    const { read } = scope.fallback.policy
    const { bodyLimit } = request.routeOptions
    const policy = read.limit <= bodyLimit ? read : bodyLimited(read, bodyLimit)
    const { method, url, headers, raw } = request
    const asked = { method, path: pathOf(url), headers, rawHeaders: raw.rawHeaders }
    dropBody(scope, asked, source, policy, (err) => done((err ?? null) as Error | null))
  }

  /**
   * The scope to take a request in: report mode's fallback, which reads an unbound route's
   * body (enforce mode refuses it unread), is capped too.
   */
  scope(request: FastifyRequest, route: CompiledRoute | undefined): BodyScope {
    const { scope } = this.engine
    const { fallback } = scope
    if (route !== undefined || fallback.policy.mode !== 'report') return scope
    // A second read of routeOptions (fastify builds it anew each time): report mode's
    // unbound requests only.
    const { bodyLimit } = request.routeOptions
    if (fallback.policy.read.limit <= bodyLimit) return scope
    let limited = this.scopes.get(bodyLimit)
    if (limited === undefined) {
      const policy = cappedPolicy(fallback.policy, bodyLimit)
      this.scopes.set(bodyLimit, (limited = { ...scope, fallback: { ...fallback, policy } }))
    }
    return limited
  }
}

// Set on the requests safebody's parser took: the instance's hook neither takes their body
// again nor takes the body it finds for another parser's. A property of the request, as
// body-parser's `_body`: adding each request to a WeakSet cost 2 to 3% of the CPU a small
// body's request takes (the fastify yardstick, measured side by side).
const kOurs = Symbol('safebody.parsed')
type Marked = { [kOurs]?: true }

function bodyParser(bindings: FastifyBindings) {
  return (
    request: FastifyRequest,
    payload: IncomingMessage,
    done: (err: Error | null, body?: unknown) => void,
  ): void => {
    const { method, url, headers } = request
    const marked = request.raw as Marked
    marked[kOurs] = true
    if (request.is404) {
      return bindings.drop(request, payload, (err) => {
        if (err !== null) return done(err)
        done(null, undefined)
      })
    }
    const path = pathOf(url)
    const { routeOptions } = request
    const route = bindings.binding(request, routeOptions)
    const scope = bindings.scope(request, route)
    const { rawHeaders } = payload
    const asked = { method, path, headers, rawHeaders }
    takeHeld(scope, route, bindings.then(routeOptions, method), asked, payload, (err, value) => {
      if (err !== null && err !== undefined) return done(err as Error)
      if (value === noBody || value === unread || value === undefined) {
        return done(null, undefined)
      }
      done(null, value)
    })
  }
}

/**
 * Take a request's body with its route's first binding and, where the route has a second (its
 * `schema.body` behind a key), hold what the first handed on to that one too (`retakeBody`),
 * or, where the first read nothing (no body, or report mode left it unread), let the second
 * take it as it comes.
 */
function takeHeld(
  scope: BodyScope,
  route: CompiledRoute | undefined,
  then: CompiledRoute | undefined,
  request: BodyRequest,
  source: BodySource,
  done: BodyCallback,
): void {
  if (then === undefined) return takeBody(scope, route, request, source, done)
  takeBody(scope, route, request, source, (err, value, taken) => {
    if (err !== null && err !== undefined) return done(err)
    if (taken !== undefined) retakeBody(scope, then, request, value, taken, done)
    else takeBody(scope, then, request, source, done)
  })
}

/**
 * The methods fastify hands a body to a content-type parser for: its own set, which
 * `addHttpMethod(method, { hasBody: true })` extends (read through fastify's symbol, as its
 * plugins do; the standard methods where a fastify has none).
 */
function parsedMethods(fastify: FastifyInstance): ReadonlySet<string> {
  // On the root instance; an encapsulated one inherits it.
  let key: symbol | undefined
  for (let at: object | null = fastify; at !== null && key === undefined;) {
    key = Object.getOwnPropertySymbols(at).find(
      (symbol) => symbol.description === 'fastify.acceptedHTTPMethods',
    )
    at = Object.getPrototypeOf(at) as object | null
  }
  const methods =
    key === undefined ? undefined : (fastify as unknown as Record<symbol, unknown>)[key]
  const bodywith = (methods as { bodywith?: unknown } | undefined)?.bodywith
  return bodywith instanceof Set
    ? (bodywith as Set<string>)
    : new Set(['DELETE', 'OPTIONS', 'PATCH', 'PUT', 'POST', 'QUERY'])
}

/**
 * True when fastify ran a content-type parser for the request: a method it parses, with a
 * Content-Type, a Transfer-Encoding or a Content-Length above zero. Without any of the three
 * fastify takes the request for bodiless, which an HTTP/2 stream need not be.
 */
function parserRan(method: string, headers: IncomingHttpHeaders, parsed: ReadonlySet<string>) {
  if (!parsed.has(method) || headers['content-type'] !== undefined) return parsed.has(method)
  // fastify's own test, to the letter: `Content-Length: 00` runs a parser too.
  const length = headers['content-length']
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * The requests safebody's parser did not take. A body another parser took (one the app
 * registered after the plugin, for its types): kept on a route no binding holds (a multipart
 * upload, say); on a bound route refused as a type outside its formats (`foreignBody`), which
 * report mode reports, as the middleware elsewhere refuses a type outside its list before any
 * later parser sees it. The rest, taken as every other adapter takes them: a bodiless one (a
 * route that requires a body or a signature refuses it), and a body fastify does not parse
 * (GET, HEAD, TRACE and the methods added without `hasBody`, and an HTTP/2 body with none of
 * Content-Type, Transfer-Encoding and Content-Length), read and checked against the route's
 * binding, or refused with 415 where it has none.
 */
function unparsedBody(
  bindings: FastifyBindings,
  parsedMethods: ReadonlySet<string>,
): preValidationHookHandler {
  return (request, _reply, next) => {
    const { raw } = request
    if ((raw as Marked)[kOurs] === true) return next()
    const { method, url, headers } = request
    const present = hasBody(headers, raw)
    const elsewhere = parserRan(method, headers, parsedMethods)
    // Set by the app's own hook before this one, not by a parser: left as it is.
    if (request.body !== undefined && !elsewhere) return next()
    // No route of fastify's: no handler runs, so no binding holds (a HEAD with
    // exposeHeadRoutes false stays fastify's 404, not its path's GET binding).
    if (request.is404) {
      if (!present || elsewhere) return next()
      return bindings.drop(request, raw, (err) => {
        next(err ?? undefined)
      })
    }
    const path = pathOf(url)
    const { routeOptions } = request
    const route = bindings.binding(request, routeOptions)
    const then = bindings.then(routeOptions, method)
    const unbound = route === undefined && then === undefined
    if (unbound && !present) return next()
    if (unbound && elsewhere && !bindings.refusesForeign(routeOptions, method)) return next()
    const scope = bindings.scope(request, route)
    const asked = { method, path, headers, rawHeaders: raw.rawHeaders }
    const handOn: BodyCallback = (err, value) => {
      if (err !== null && err !== undefined) return next(err as Error)
      if (value !== noBody && value !== unread) request.body = value
      next()
    }
    if (present && elsewhere) {
      // An unbound route here refuses it as a body on a route with no binding (415).
      const [first, second] = unbound ? [undefined] : [route, then].filter((bound) => bound)
      return foreignBody(scope, first, asked, (err) => {
        if (err !== null && err !== undefined) return next(err as Error)
        if (second === undefined) return next()
        foreignBody(scope, second, asked, handOn)
      })
    }
    // What another parser made of no body (formbody's `{}`) no binding checked: dropped in
    // enforce mode, which holds the request as bodiless.
    if (request.body !== undefined && parsedElsewhere(headers, raw, route ?? then)) {
      request.body = undefined
    }
    takeHeld(scope, route, then, asked, raw, handOn)
  }
}

/**
 * fastify's normalized Content-Type (`type/subtype`, then `; name="value"` parameters) for
 * any media type or structured suffix (`+json`) a format names.
 */
const formatTypes = (() => {
  const all = Object.values(formats)
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  const types = all.flatMap((format) => format.mediaTypes).map(escape)
  const suffixes = all.flatMap((format) => (format.suffix ? [format.suffix] : [])).map(escape)
  const suffixed = suffixes.length === 0 ? [] : [`[^/;]+/[^;]*(?:${suffixes.join('|')})`]
  return new RegExp(`^(?:${[...types, ...suffixed].join('|')})(?:;|$)`)
})()

const passBody = () => true

/**
 * A route's validator compiler that leaves the body to safebody (which validated it while
 * parsing) and compiles the route's other parts as fastify would.
 */
function skipBody(
  instance: FastifyInstance,
  own: FastifySchemaCompiler<FastifySchema> | undefined,
): FastifySchemaCompiler<FastifySchema> {
  return (definition) => {
    if (definition.httpPart === 'body') return passBody
    if (own !== undefined) return own(definition)
    // fastify lower-cases a headers schema's names itself unless the compiler is a custom
    // one; ours stands in for its default, so it does the same.
    const schema =
      definition.httpPart === 'headers' ? lowerCaseHeaders(definition.schema) : definition.schema
    return defaultCompiler(instance)({ ...definition, schema })
  }
}

function lowerCaseHeaders(schema: unknown): FastifySchema {
  const s = schema as { properties?: Record<string, unknown>; required?: unknown }
  if (typeof s !== 'object' || s === null || Object.getPrototypeOf(s) !== Object.prototype) {
    return schema as FastifySchema
  }
  const copy: Record<string, unknown> = { ...s }
  if (s.properties !== undefined) {
    copy.properties = Object.fromEntries(
      Object.entries(s.properties).map(([k, v]) => [k.toLowerCase(), v]),
    )
  }
  if (Array.isArray(s.required)) copy.required = s.required.map((k: string) => k.toLowerCase())
  return copy as FastifySchema
}

/**
 * fastify's validator compiler for `instance`. fastify builds it lazily, only for routes
 * without their own compiler, so a route whose only other route siblings carry ours may find
 * none built yet: then it is built the way fastify builds it (its schema controller, with the
 * server's `ajv` options).
 */
function defaultCompiler(instance: FastifyInstance): FastifySchemaCompiler<FastifySchema> {
  const built = instance.validatorCompiler
  if (built !== undefined) return built
  const internal = instance as unknown as Record<symbol, unknown>
  const symbol = (description: string) =>
    Object.getOwnPropertySymbols(instance).find((s) => s.description === description)
  const controller = internal[symbol('fastify.schemaController') as symbol] as
    { setupValidator(options: unknown): void } | undefined
  const serverOptions = internal[symbol('fastify.options') as symbol]
  if (controller === undefined || serverOptions === undefined) {
    throw new Error(
      'safebody/fastify: this fastify has no validator compiler for the querystring, params and headers; set one with setValidatorCompiler()',
    )
  }
  controller.setupValidator(serverOptions)
  return instance.validatorCompiler as FastifySchemaCompiler<FastifySchema>
}

// What fastify refuses itself before any parser runs (a Content-Type header it cannot parse),
// in safebody's catalogue.
const fastifyRefusals: Readonly<Record<string, BodyErrorType>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'content.type.unsupported',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.size.invalid',
  FST_ERR_CTP_BODY_TOO_LARGE: 'entity.too.large',
  // A QUERY request without one, which fastify refuses before any parser runs.
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: 'content.type.unsupported',
}

/**
 * `error` as a catalogued refusal: safebody's own pass as they are; the few body refusals
 * fastify makes before safebody sees the request get their safebody `type`; anything else is
 * returned unchanged.
 */
export function bodyRefusal(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  const type = typeof code === 'string' ? fastifyRefusals[code] : undefined
  return type === undefined ? error : bodyError(type, undefined, { cause: error })
}

/** What the error handler uses of fastify's reply, on any server (HTTP/1.1, HTTP/2, HTTPS). */
interface ProblemReply {
  code(statusCode: number): ProblemReply
  type(contentType: string): ProblemReply
  send(payload: string): unknown
}

/**
 * A fastify error handler that answers client errors as RFC 9457
 * `application/problem+json`: safebody's refusals with their type, title, detail and
 * validation errors; other exposed 4xx errors with their status only. Anything else goes to
 * the parent error handler.
 *
 * @example
 * app.setErrorHandler(problemDetails())
 */
export function problemDetails(options: ProblemDetailsOptions = {}) {
  const typeBase = options.typeBase ?? ''
  if (typeof typeBase !== 'string') throw new TypeError('safebody: typeBase must be a string')
  return (error: FastifyError | Error, _request: unknown, reply: ProblemReply) => {
    const problem = toProblem(bodyRefusal(error), typeBase)
    if (problem === undefined) throw error
    return reply
      .code(problem.status)
      .type('application/problem+json; charset=utf-8')
      .send(JSON.stringify(problem))
  }
}

/** The safebody fastify plugin. */
const safebody = fp(safebodyPlugin, { fastify: '5.x', name: 'safebody' })
export default safebody
export { safebody }
export type { ProblemDetailsOptions, ProblemDocument } from './problem.js'
