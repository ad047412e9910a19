import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http'
import { catalogue, isBodyError } from './errors.js'

/** An RFC 9457 problem document. */
export interface ProblemDocument {
  type: string
  title: string
  status: number
  detail?: string
  errors?: Array<{ instancePath: string; keyword: string; message: string }>
}

/** Options for `problemDetails()`. */
export interface ProblemDetailsOptions {
  /**
   * Prefixed to the error type to form the problem `type` URI, e.g.
   * `'https://example.com/problems/'`. Default: none, so `type` is the stable string
   * itself (`'entity.parse.failed'`), a relative URI reference.
   */
  typeBase?: string
}

type ErrorHandler = (
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void

/**
 * An Express error handler that answers client errors as RFC 9457
 * `application/problem+json`: safebody's refusals with their type, title, detail and
 * validation errors; other exposed 4xx errors with their status only. Anything else (5xx,
 * errors not meant for clients) goes on to the next error handler untouched.
 *
 * @example
 * app.use(problemDetails())
 */
export function problemDetails(options: ProblemDetailsOptions = {}): ErrorHandler {
  const typeBase = options.typeBase ?? ''
  if (typeof typeBase !== 'string') throw new TypeError('safebody: typeBase must be a string')
  return (err, _req, res, next) => {
    const problem = toProblem(err, typeBase)
    if (problem === undefined || res.headersSent) return next(err)
    res.statusCode = problem.status
    res.setHeader('Content-Type', 'application/problem+json; charset=utf-8')
    res.end(JSON.stringify(problem))
  }
}

/** The problem document for `err`, or undefined when it is not a client error to expose. */
export function toProblem(err: unknown, typeBase = ''): ProblemDocument | undefined {
  if (isBodyError(err)) {
    const problem: ProblemDocument = {
      type: typeBase + err.type,
      title: catalogue[err.type].title,
      status: err.status,
      detail: err.detail,
    }
    if (err.errors) {
      problem.errors = err.errors.map(({ instancePath, keyword, message }) => ({
        instancePath,
        keyword,
        message,
      }))
    }
    return problem
  }
  const status = (err as { status?: unknown } | null)?.status
  const expose = (err as { expose?: unknown } | null)?.expose
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true)
    return undefined
  // A foreign error's message may quote its input (JSON.parse's does): show the status only.
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Client Error', status }
}
