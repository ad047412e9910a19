import type { BodyError, BodyErrorType } from '../errors.js'
import { type FormatName, formats } from '../decoders/formats.js'
import type { BodyRequest } from './request.js'

/** `'enforce'` refuses; `'report'` records what the route's policy would refuse and goes on. */
export type SafeBodyMode = 'enforce' | 'report'

/** Whether the request was refused, or went on in report mode with the refusal recorded. */
export type ViolationAction = 'refused' | 'reported'

/** One schema issue, as the client's problem document has it. */
export interface ViolationIssue {
  readonly instancePath: string
  readonly keyword: string
  readonly message: string
}

/**
 * One refusal, or one refusal report mode would have made. Carries no body content unless
 * the `excerpt` option asks for one. `instancePath` in `errors` names keys of the body.
 */
export interface ViolationEvent {
  readonly mode: SafeBodyMode
  readonly action: ViolationAction
  readonly type: BodyErrorType
  /** The status enforce mode answers (or answered) with. */
  readonly status: number
  readonly method: string
  /** The request path, without the query string (at most 256 characters). */
  readonly path: string
  /** The binding: `'POST /users'`, a per-route handler's Express route, or null if unbound. */
  readonly route: string | null
  /** The Content-Type header as sent (at most 256 characters), or null. */
  readonly contentType: string | null
  /** The format the body was (or was to be) decoded as, once known. */
  readonly format: FormatName | null
  /** Body bytes: as read (after inflation) once read, else the declared Content-Length. */
  readonly bytes: number | null
  /** The route's schema id (`'inline'` for a schema object), or null if unbound. */
  readonly schema: string | null
  readonly errors: readonly ViolationIssue[]
  /** The body's first bytes, only with the `excerpt` option: UTF-8 text, base64 if binary. */
  readonly excerpt?: string
}

/** Called for every refusal and would-be refusal, after the request has gone on. */
export type ViolationHandler = (event: ViolationEvent) => unknown

/** `safeBody()` options for violation events. */
export interface ViolationOptions {
  /**
   * Called, asynchronously, for every refusal and every report. It cannot delay or break
   * the request: its result is not awaited, and a throw or rejection is swallowed (the
   * first one is emitted as a process warning).
   */
  onViolation?: ViolationHandler
  /** Add up to this many bytes of the body (0 to 1024) to events. Default 0: none. */
  excerpt?: number
}

/** One counter of `stats()`. */
export interface ViolationCounter {
  /** Binding key, per-route handler route, `'unbound'`, or `'other'` past the size bound. */
  readonly route: string
  /** The format name, or `'none'` before one was chosen. */
  readonly format: FormatName | 'none'
  readonly type: BodyErrorType
  readonly action: ViolationAction
  readonly count: number
}

/** A snapshot of the counters since the middleware was created. */
export interface ViolationStats {
  readonly refused: number
  readonly reported: number
  readonly counters: ViolationCounter[]
}

/** What the adapter knows of a request, filled in as it goes down the pipeline. */
export interface RequestFacts {
  readonly request: BodyRequest
  readonly route: string | null
  readonly schema: string | null
  readonly mode: SafeBodyMode
  format: FormatName | null
  body: Buffer | null
}

/** Counts violations and hands events to the application's handler. */
export interface ViolationLog {
  record(err: BodyError, action: ViolationAction, facts: RequestFacts): void
  stats(): ViolationStats
}

const MAX_EXCERPT = 1024
const MAX_TEXT = 256
// Routes and formats are finite, but per-route handlers are created by application code;
// past this many distinct counters, new ones fold into route 'other'.
const MAX_COUNTERS = 2000

/** Check the event options once and build the log. */
export function violationLog(options: ViolationOptions): ViolationLog {
  const { onViolation, excerpt = 0 } = options
  if (onViolation !== undefined && typeof onViolation !== 'function') {
    throw new TypeError('safebody: onViolation must be a function')
  }
  if (!Number.isSafeInteger(excerpt) || excerpt < 0 || excerpt > MAX_EXCERPT) {
    throw new TypeError(`safebody: excerpt must be a byte count from 0 to ${MAX_EXCERPT}`)
  }
  const counters = new Map<
    string,
    { -readonly [K in keyof ViolationCounter]: ViolationCounter[K] }
  >()
  const totals = { refused: 0, reported: 0 }
  let warned = false
  const warn = (err: unknown) => {
    if (warned) return
    warned = true
    const message = err instanceof Error ? err.message : String(err)
    process.emitWarning(`safebody: the onViolation handler failed: ${message}`, {
      code: 'SAFEBODY_VIOLATION_HANDLER',
    })
  }
  const count = (err: BodyError, action: ViolationAction, facts: RequestFacts) => {
    totals[action]++
    let route = facts.route ?? 'unbound'
    const format = facts.format ?? 'none'
    let key = `${action}\n${route}\n${format}\n${err.type}`
    if (!counters.has(key) && counters.size >= MAX_COUNTERS) {
      route = 'other'
      key = `${action}\n${route}\n${format}\n${err.type}`
    }
    const counter = counters.get(key)
    if (counter) counter.count++
    else counters.set(key, { route, format, type: err.type, action, count: 1 })
  }
  return {
    record(err, action, facts) {
      count(err, action, facts)
      if (onViolation === undefined) return
      const event = violationEvent(err, action, facts, excerpt)
      // Later, and guarded: the request never waits for the handler or sees its errors.
      setImmediate(() => {
        try {
          const result = onViolation(event)
          if (isThenable(result)) result.then(undefined, warn)
        } catch (err) {
          warn(err)
        }
      })
    },
    stats() {
      return {
        refused: totals.refused,
        reported: totals.reported,
        counters: [...counters.values()].map((c) => ({ ...c })),
      }
    },
  }
}

function violationEvent(
  err: BodyError,
  action: ViolationAction,
  facts: RequestFacts,
  excerpt: number,
): ViolationEvent {
  const { request, body } = facts
  const { headers } = request
  const declared = Number(headers['content-length'])
  const event: { -readonly [K in keyof ViolationEvent]: ViolationEvent[K] } = {
    mode: facts.mode,
    action,
    type: err.type,
    status: err.status,
    method: request.method,
    path: clip(request.path),
    route: facts.route,
    contentType: typeof headers['content-type'] === 'string' ? clip(headers['content-type']) : null,
    format: facts.format,
    bytes: body !== null ? body.length : Number.isSafeInteger(declared) ? declared : null,
    schema: facts.schema,
    errors: (err.errors ?? []).map(({ instancePath, keyword, message }) => ({
      instancePath,
      keyword,
      message,
    })),
  }
  if (excerpt > 0 && body !== null) {
    const head = body.subarray(0, excerpt)
    const textual = facts.format === null || formats[facts.format].textual
    event.excerpt = head.toString(textual ? 'utf8' : 'base64')
  }
  return event
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
