import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type BodyCallback,
  type BodyScope,
  noBody,
  retakeBody,
  takeBody,
  unread,
} from './core/body.js'
import { type BodyEngine, createEngine, type RouteSchemas } from './core/engine.js'
import type { SafeBodyOptions } from './core/options.js'
import type { ViolationStats } from './core/violations.js'
import { closeUnread } from './core/connection.js'
import { type BodyRequest, pathOf } from './core/request.js'
import type { CompiledRoute } from './core/route.js'
import { type ProblemDetailsOptions, toProblem } from './problem.js'

/**
 * The reader `createBodyReader()` returns. `read(req)` resolves the validated body (typed
 * `Body`), or `undefined` when the request has none; it rejects with the catalogued refusal
 * (`status`, `statusCode`, `type`, `expose`). A promise adopts what it resolves with, so a
 * schema whose output is itself a thenable has it awaited here, as `await` would; the other
 * adapters hand such an output on as it is.
 */
export interface BodyReader<Body = unknown> {
  (req: IncomingMessage, res?: ServerResponse): Promise<Body | undefined>
  /** A snapshot of the refusal and report counters, by route, format, type and action. */
  stats(): ViolationStats
}

/**
 * Create a body reader for a plain node:http server, with `safeBody()`'s options: routes are
 * matched on the method and the URL's pathname. Give `res` and a refused request whose body
 * has not fully arrived is answered with `Connection: close` and its socket cut after the
 * response (never drained); without `res`, the caller must do that itself. `Body` types what
 * `read` resolves; it is not checked against the schemas.
 *
 * @example
 * const read = createBodyReader({ schemas: { user }, routes: { 'POST /users': 'user' } })
 * http.createServer(async (req, res) => {
 *   try { const user = await read(req, res); ... } catch (err) { sendProblem(res, err) }
 * })
 */
export function createBodyReader<Body = unknown>(
  options: SafeBodyOptions | RouteSchemas = {},
): BodyReader<Body> {
  const engine = createEngine(options)
  const { scope } = engine
  const read = ((req: IncomingMessage, res?: ServerResponse) =>
    new Promise((resolve, reject) => {
      const method = req.method ?? 'GET'
      const path = pathOf(req.url ?? '/')
      const request = { method, path, headers: req.headers, rawHeaders: req.rawHeaders }
      const done: BodyCallback = (err, value) => {
        if (err !== null && err !== undefined) {
          if (res !== undefined) closeUnread(req, res)
          return reject(err)
        }
        // No body, or (report mode) a body no format decodes, left unread in `req`.
        resolve(value === noBody || value === unread ? undefined : (value as Body))
      }
      if (!readsOtherwise(path)) takeBody(scope, engine.find(method, path), request, req, done)
      else takeBodyForEach(scope, bindingsOf(engine, method, path), request, req, done)
    })) as BodyReader<Body>
  read.stats = () => engine.stats()
  return read
}

/**
 * True for a path that routers may read as another path: one with a dot segment (`/./`,
 * `/../`, and `%2e` for a dot), a backslash or `//`, which WHATWG URL resolves (`new URL(
 * req.url, base)`, as Node's docs route) and `path.posix.normalize` or find-my-way's
 * `ignoreDuplicateSlashes` collapse, a percent-escape, which a router such as find-my-way
 * decodes, or a `;`, where find-my-way's `useSemicolonDelimiter` ends the path. safebody
 * cannot know which reading the application routes by.
 */
function readsOtherwise(path: string): boolean {
  return (
    path.includes('%') ||
    path.includes('/.') ||
    path.includes('\\') ||
    path.includes('//') ||
    path.includes(';')
  )
}

/**
 * The bindings any reading of `path` reaches: as sent, cut at its first `;`, with runs of
 * slashes collapsed, and each of those resolved as WHATWG URL resolves it, percent-decoded
 * (but for `%2F` and `%5C`, which would make new segments), and both; at least one
 * (`undefined`, when none binds). A request is held to each binding found, so that whichever
 * reading the application routes by, the handler it reaches gets a body its binding checked.
 * A reading that binds nothing adds nothing (a body on an unbound path is refused anyway, and
 * an encoded path such as `/caf%C3%A9` reaches the key `'/café'`), but one that reaches a key
 * saying its route takes no body (an OpenAPI operation without a requestBody) adds an unbound
 * route, which refuses a body.
 */
function bindingsOf(
  engine: BodyEngine,
  method: string,
  path: string,
): Array<CompiledRoute | undefined> {
  const semicolon = path.indexOf(';')
  const cut = semicolon === -1 ? path : path.slice(0, semicolon)
  const found: Array<CompiledRoute | undefined> = []
  let refusing = false
  for (const sent of new Set([path, cut, collapsed(path), collapsed(cut)])) {
    const resolved = resolvedPath(sent)
    for (const reading of [sent, resolved, decodedPath(sent), resolved && decodedPath(resolved)]) {
      const route = reading === undefined ? undefined : engine.findKeyed(method, reading)
      if (route === null) refusing = true
      else if (route !== undefined && !found.includes(route)) found.push(route)
    }
  }
  if (refusing || found.length === 0) found.push(undefined)
  return found
}

/** The path with each run of slashes made one, as `path.posix.normalize` makes it. */
function collapsed(path: string): string {
  return path.replace(/\/{2,}/g, '/')
}

/** The path of `new URL(path, base)`; undefined for a target that is no path (`*`). */
function resolvedPath(path: string): string | undefined {
  if (path.charCodeAt(0) !== 0x2f) return undefined
  try {
    return new URL(path, 'http://localhost').pathname
  } catch {
    return undefined
  }
}

/** The path percent-decoded, `%2F` and `%5C` kept; undefined for a malformed escape. */
function decodedPath(path: string): string | undefined {
  try {
    return decodeURIComponent(path.replace(/%(2f|5c)/gi, '%25$1'))
  } catch {
    return undefined
  }
}

/**
 * Take the body under the first binding, then hold what it handed on to each of the others
 * in turn (`retakeBody`: validators stack), as two instances of `safeBody()` would; a binding
 * after a bodiless request (nothing taken) takes the request afresh.
 */
function takeBodyForEach(
  scope: BodyScope,
  routes: ReadonlyArray<CompiledRoute | undefined>,
  request: BodyRequest,
  source: IncomingMessage,
  done: BodyCallback,
): void {
  let at = 0
  const next: BodyCallback = (err, value, taken) => {
    at++
    if ((err !== null && err !== undefined) || at === routes.length) return done(err, value, taken)
    const route = routes[at]
    if (taken !== undefined) retakeBody(scope, route, request, value, taken, next)
    else takeBody(scope, route, request, source, next)
  }
  takeBody(scope, routes[0], request, source, next)
}

/**
 * Answer `err` as RFC 9457 `application/problem+json` when it is a client error to show
 * (safebody's refusals, other exposed 4xx errors); returns false, writing nothing, otherwise.
 *
 * @example
 * read(req, res).then(handle, (err) => sendProblem(res, err) || fail(res, err))
 */
export function sendProblem(
  res: ServerResponse,
  err: unknown,
  options: ProblemDetailsOptions = {},
): boolean {
  const problem = toProblem(err, options.typeBase)
  if (problem === undefined || res.headersSent) return false
  const body = JSON.stringify(problem)
  res.writeHead(problem.status, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
  return true
}

export type { ProblemDetailsOptions, ProblemDocument } from './problem.js'
export type { RouteSchemas, SafeBodyOptions }
