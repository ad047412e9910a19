import type { IncomingMessage, ServerResponse } from 'node:http'
import { noBody, takeBody, unread } from './core/body.js'
import { createEngine, type RouteSchemas } from './core/engine.js'
import type { SafeBodyOptions } from './core/options.js'
import type { ViolationStats } from './core/violations.js'
import { closeUnread } from './core/connection.js'
import { pathOf } from './core/request.js'
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
      takeBody(scope, engine.find(method, path), request, req, (err, value) => {
        if (err !== null && err !== undefined) {
          if (res !== undefined) closeUnread(req, res)
          return reject(err)
        }
        // No body, or (report mode) a body no format decodes, left unread in `req`.
        resolve(value === noBody || value === unread ? undefined : (value as Body))
      })
    })) as BodyReader<Body>
  read.stats = () => engine.stats()
  return read
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
