import createError from 'http-errors'
import { isBodyError, limitError } from '../errors.js'
import type { DecodeContext, Format } from '../decoders/formats.js'
import {
  type IntegrityPolicy,
  readSignature,
  type SignatureClaim,
  verifySignature,
} from './integrity.js'
import { settleBy } from './deadline.js'
import {
  deliveryKey,
  deliveryTtl,
  type ReplayPolicy,
  replayed,
  storeUnavailable,
  windowSeconds,
} from './replay.js'
import { negotiate } from './negotiate.js'
import type { RoutePolicy } from './options.js'
import { type BodySource, hasBody, type ReadSink, readBody } from './read.js'
import type { BodyRequest } from './request.js'
import { type Fallback, relaxed, reportFormat, unread } from './report.js'
import { absentBody, type CompiledRoute, noBody, unboundRoute } from './route.js'
import type { RequestFacts, ViolationLog } from './violations.js'

/**
 * How a body ended: `err` is a catalogued refusal (or, rarely, a server fault), else `value`
 * is the validated value, `noBody` (no body was sent) or `unread` (report mode met a
 * Content-Type no format decodes and left the body to the application), and `integrity` the
 * signature check the body passed, if the route has one.
 */
export type BodyCallback = (
  err: unknown,
  value?: unknown,
  integrity?: IntegrityPolicy | null,
) => void

/** What every request of one instance shares besides its route: the log and report mode's fallback. */
export interface BodyScope {
  readonly log: ViolationLog
  readonly fallback: Fallback
  /** The route's name in events and counters; null for the binding's own. */
  readonly name: ((request: BodyRequest, route: CompiledRoute) => string) | null
}

/**
 * Take one request's body down the path, each stage once, in order: headers (signature
 * header, presence, negotiation) -> read -> verify -> decode and guard -> validate. Report
 * mode is consulted where a refusal is decided. Calls `done` exactly once, synchronously
 * when the headers alone decide. Returns the signature check the body is held to, if any.
 *
 * @example
 * takeBody(scope, engine.find('POST', '/users'), request, req, (err, value) => ...)
 */
export function takeBody(
  scope: BodyScope,
  route: CompiledRoute | undefined,
  request: BodyRequest,
  source: BodySource,
  done: BodyCallback,
): void {
  new BodyTask(scope, route, request, done).start(source)
}

/**
 * A body another safebody instance took first (a global one, then a `.route()` one, or two
 * globals): held to this route's schema too, never read again. The route's signature must be
 * the one the first checked (else a 500, not exposed: a misconfiguration, failing closed);
 * its schema validates `value` (what the first handed on: validators stack, each seeing the
 * last one's output), in its mode, and its output is handed on. The read, the content type,
 * the limits and the guard were the first's. A route with no binding here passes the value on
 * as it is.
 */
export function retakeBody(
  scope: BodyScope,
  route: CompiledRoute | undefined,
  request: BodyRequest,
  value: unknown,
  checked: IntegrityPolicy | null,
  done: BodyCallback,
): void {
  if (route === undefined) return done(null, value, checked)
  new BodyTask(scope, route, request, done).retake(value, checked)
}

class BodyTask implements ReadSink {
  private readonly policy: RoutePolicy
  private readonly context: DecodeContext
  private format: Format | null = null
  private claim: SignatureClaim | null = null
  private integrity: IntegrityPolicy | null = null
  private bytes: Buffer | null = null
  /** When the body was first asked for: `timeout` bounds the read and the validation. */
  private started = 0

  constructor(
    private readonly scope: BodyScope,
    private readonly route: CompiledRoute | undefined,
    private readonly request: BodyRequest,
    private readonly done: BodyCallback,
  ) {
    this.policy = route?.policy ?? scope.fallback.policy
    this.context = route?.context ?? scope.fallback.context
  }

  start(source: BodySource): void {
    // Only a route whose validator may answer later pays for the clock.
    if (this.route?.mayDefer) this.started = Date.now()
    const { headers } = this.request
    const { policy } = this
    const present = hasBody(headers)
    let format: Format | typeof unread
    try {
      // An unbound route's body is refused unread in enforce mode; only report mode reads it.
      if (
        policy.integrity !== null &&
        (this.route !== undefined || (present && this.reporting()))
      ) {
        this.integrity = policy.integrity
        this.claim = readSignature(headers, policy.integrity)
      }
      if (!present) {
        // A signed empty body is verified (and replay-checked) like any other.
        if (this.claim !== null) return this.bodyRead(EMPTY)
        this.absent()
        return this.done(null, noBody)
      }
      format = this.negotiate(headers['content-type'] as string | undefined)
    } catch (err) {
      return this.refuse(err)
    }
    if (format === unread) return this.done(null, unread)
    this.format = format
    readBody(source, headers, policy.read, this)
  }

  retake(value: unknown, checked: IntegrityPolicy | null): void {
    const route = this.route as CompiledRoute
    const required = route.policy.integrity
    if (required !== null && required !== checked) {
      return this.done(
        createError(500, 'safebody read this body before the signature check', { expose: false }),
      )
    }
    if (route.mayDefer) this.started = Date.now()
    this.integrity = checked
    // The format is named in events when this route has one for the type; never refused here.
    try {
      this.format = negotiate(
        this.request.headers['content-type'] as string | undefined,
        route.formats,
      )
    } catch {
      this.format = null
    }
    let out: unknown
    try {
      out = this.validate(value, route)
    } catch (err) {
      return this.refuse(err)
    }
    if (isPromise(out)) this.awaitValidation(out)
    else this.done(null, out, checked)
  }

  bodyRead(bytes: Buffer): void {
    this.bytes = bytes
    if (this.claim !== null) {
      const integrity = this.integrity as IntegrityPolicy
      let digest: Buffer
      try {
        digest = verifySignature(this.claim, bytes, integrity)
      } catch (err) {
        return this.refuse(err)
      }
      // Recorded only once the signature verified: unsigned junk cannot fill the store.
      if (integrity.replay !== null && !this.firstDelivery(integrity, integrity.replay, digest)) {
        return
      }
    }
    this.decode(bytes)
  }

  /** Decode, guard and validate a body that has been read (and verified). */
  private decode(bytes: Buffer): void {
    let value: unknown
    try {
      if (bytes.length === 0) {
        this.absent()
        return this.done(null, noBody)
      }
      value = (this.format as Format).decode(bytes, this.context)
      if (this.route !== undefined) value = this.validate(value, this.route)
    } catch (err) {
      return this.refuse(err)
    }
    // A validator may answer later (a Standard Schema with async refinements); the common,
    // synchronous case allocates nothing for it.
    if (isPromise(value)) this.awaitValidation(value)
    else this.done(null, value, this.integrity)
  }

  /**
   * An async validator's answer, within what the read left of the route's timeout: one that
   * never settles is refused with 408 like a slow body, and its late answer is dropped.
   */
  private awaitValidation(pending: PromiseLike<unknown>): void {
    const { timeout, route } = this.policy.read
    settleBy(
      pending,
      (this.started || Date.now()) + timeout,
      timeout,
      () =>
        limitError(
          'request.timeout',
          `The body was not read and validated within ${timeout} ms`,
          timeout,
          route,
        ),
      (checked) => this.done(null, checked, this.integrity),
      (err) => this.refuse(err),
    )
  }

  /**
   * Claim the delivery in the replay store. True to go on now; false when the request was
   * refused, or will go on when an asynchronous store answers (within `storeTimeout`, and
   * within what is left of the route's `timeout`). An in-memory store answers at once.
   */
  private firstDelivery(integrity: IntegrityPolicy, replay: ReplayPolicy, digest: Buffer): boolean {
    const claim = this.claim as SignatureClaim
    const now = Date.now()
    let fresh: boolean | PromiseLike<boolean>
    try {
      fresh = replay.store.claim(
        deliveryKey(claim.delivery, replay.header, digest),
        deliveryTtl(replay, claim.timestamp, integrity.tolerance, now),
      )
    } catch (cause) {
      return this.storeFailed(replay, cause)
    }
    const answered = (first: boolean) => {
      if (first) return true
      const seconds = windowSeconds(replay, claim.timestamp !== null, integrity.tolerance)
      this.refuse(replayed(seconds, this.policy.read.route))
      return false
    }
    if (!isPromise(fresh)) return answered(fresh === true)
    const { timeout } = this.policy.read
    settleBy(
      fresh,
      Math.min((this.started || now) + timeout, now + replay.storeTimeout),
      replay.storeTimeout,
      () => new Error(`the replay store did not answer within ${replay.storeTimeout} ms`),
      (first) => {
        if (answered(first === true)) this.decode(this.bytes as Buffer)
      },
      (cause) => {
        if (this.storeFailed(replay, cause)) this.decode(this.bytes as Buffer)
      },
    )
    return false
  }

  /** The store failed: refuse with 503, or (`onStoreError: 'pass'`) report it and go on. */
  private storeFailed(replay: ReplayPolicy, cause: unknown): boolean {
    const err = storeUnavailable(cause)
    if (replay.onStoreError === 'refuse') {
      this.refuse(err)
      return false
    }
    this.scope.log.record(err, 'reported', this.facts())
    return true
  }

  readFailed(err: unknown): void {
    this.refuse(err)
  }

  private reporting(): boolean {
    return this.policy.mode === 'report'
  }

  /** The route's formats, or report mode's detour when its policy refuses the type. */
  private negotiate(header: string | undefined): Format | typeof unread {
    const { route } = this
    try {
      if (route === undefined) throw unboundRoute()
      return negotiate(header, route.formats)
    } catch (err) {
      if (!relaxed(err, this.policy)) throw err
      const format = reportFormat(header, this.scope.fallback, this.context)
      // A body left unread cannot be verified, so a signed route refuses it instead.
      if (format === unread && this.claim !== null) throw err
      this.report(err)
      return format
    }
  }

  /** No body: fine unless the route requires one (reported, in report mode). */
  private absent(): void {
    try {
      absentBody(this.route)
    } catch (err) {
      if (!relaxed(err, this.policy)) throw err
      this.report(err)
    }
  }

  /** The value to hand on (or a promise of it); in report mode a refusal is reported instead. */
  private validate(value: unknown, route: CompiledRoute): unknown {
    let checked: unknown
    try {
      checked = route.validate(value)
    } catch (err) {
      return this.relaxValidation(err, value)
    }
    if (!isPromise(checked)) return checked
    return checked.then(undefined, (err: unknown) => this.relaxValidation(err, value))
  }

  /** Report mode hands on the decoded value; enforce mode refuses. */
  private relaxValidation(err: unknown, value: unknown): unknown {
    if (!relaxed(err, this.policy)) throw err
    this.report(err)
    return value
  }

  private report(err: Parameters<ViolationLog['record']>[0]): void {
    this.scope.log.record(err, 'reported', this.facts())
  }

  private refuse(err: unknown): void {
    if (isBodyError(err)) this.scope.log.record(err, 'refused', this.facts())
    this.done(err)
  }

  /** Built only when something is recorded: a request without a problem allocates none. */
  private facts(): RequestFacts {
    const { route, request } = this
    const { name } = this.scope
    return {
      request,
      route: route === undefined ? null : name === null ? route.route : name(request, route),
      schema: route?.schema ?? null,
      mode: this.policy.mode,
      format: this.format?.name ?? null,
      body: this.bytes,
    }
  }
}

const EMPTY = Buffer.alloc(0)

// Decoded bodies are data (no functions), so only a validator's promise has a callable then.
function isPromise(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

export { noBody, unread }
export type { BodyRequest, BodySource }
