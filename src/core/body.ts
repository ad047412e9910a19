import createError from 'http-errors'
import { isBodyError, limitError } from '../errors.js'
import { bindFormat, type DecodeContext, type Format, formats } from '../decoders/formats.js'
import {
  type IntegrityPolicy,
  readSignature,
  satisfies,
  type SignatureClaim,
  verifySignature,
} from './integrity.js'
import { afterParse } from './connection.js'
import { settleBy } from './deadline.js'
import { Later } from './later.js'
import {
  claimDelivery,
  type DeliveryClaim,
  deliveryKeys,
  deliveryTtl,
  type ReplayPolicy,
  releaseTaken,
  replayed,
  storeUnavailable,
  windowSeconds,
} from './replay.js'
import { negotiate, parsedByAnother, repeatedContentType } from './negotiate.js'
import type { OwnRules, RoutePolicy } from './options.js'
import {
  type BodySource,
  checkRead,
  cutShort,
  deniedBody,
  discardBody,
  hasBody,
  type NodeBodyStream,
  type ReadPolicy,
  type ReadSink,
  readBody,
  unreadStream,
} from './read.js'
import { type BodyRequest, type HeaderBag, repeatsContentType } from './request.js'
import { type Fallback, relaxed, reportFormat, unread } from './report.js'
import { absentBody, type CompiledRoute, noBody, unboundRoute } from './route.js'
import { joinForText } from './text.js'
import type { RequestFacts, ViolationLog } from './violations.js'

/**
 * How a body ended: `err` is a catalogued refusal (or, rarely, a server fault), else `value`
 * is the validated value, `noBody` (no body was sent) or `unread` (report mode met a
 * Content-Type no format decodes and left the body to the application), and, with a value
 * or with `noBody` for an empty body read from the stream, `taken`: how it was taken, for the
 * adapter to keep for a later instance's `retakeBody`.
 */
export type BodyCallback = (err: unknown, value?: unknown, taken?: TakenBody) => void

/**
 * A body one instance took: what a later instance that binds the same request holds it to,
 * its own rules, without reading the stream again.
 */
export interface TakenBody {
  /** The signature check this instance made, if any. */
  readonly integrity: IntegrityPolicy | null
  /** What the instance before it handed on, when this one retook the body; else null. */
  readonly previous: TakenBody | null
  /** The body as read (inflated), and how many bytes came off the wire. */
  readonly bytes: Buffer | null
  readonly wireLength: number
  /** The format it was decoded as, and the strictest limits and options it has passed. */
  readonly format: Format | null
  readonly decoded: DecodeContext
  /** False while no instance's own list took its content type (report mode let it by). */
  readonly negotiated: boolean
  /** True when its replay store failed and `onStoreError: 'pass'` let the body on unclaimed. */
  readonly unclaimed: boolean
  /**
   * False for a request with no body that was taken for its signature alone (nothing read), or
   * read only to find its stream empty, as its headers said (`deniedBody`, or a bodiless
   * request on a bound route, read so that a later parser finds it spent).
   */
  readonly streamRead: boolean
}

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
 * mode is consulted where a refusal is decided. Calls `done` exactly once: synchronously
 * when the headers alone let a bodiless request by, and with a refusal only once the bytes
 * already received are parsed (`afterParse`).
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
 * For an adapter whose router has no route for the request (fastify's 404): read the body
 * within `policy` and drop it, so that the framework's own answer stands and the connection
 * stays usable. Nothing is inflated, decoded or kept (`discardBody`). A body over the limit or
 * too slow is refused as `takeBody` refuses, recorded with route null and told once the bytes
 * received are parsed (`afterParse`), so that requests pipelined behind it are answered too.
 */
export function dropBody(
  scope: BodyScope,
  request: BodyRequest,
  source: NodeBodyStream,
  policy: ReadPolicy,
  done: (err: unknown) => void,
): void {
  discardBody(source, request.headers, policy, {
    bodyRead: () => done(null),
    readFailed: (err) => {
      if (isBodyError(err)) {
        const { mode } = scope.fallback.policy
        const facts = { request, route: null, schema: null, mode, format: null, body: null }
        scope.log.record(err, 'refused', facts)
      }
      afterParse(() => done(err))
    },
  })
}

/**
 * A body another safebody instance took first (a global one, then a `.route()` one, or two
 * globals): held to this instance's rules too, never read again. A signature its route
 * requires is checked on the bytes the first read (replay included), unless the first made
 * the same check; the content types, `inflate` and `limit` the route sets hold against the
 * body as read; where its limits or decoding options are stricter, the bytes are decoded
 * again with them, as a check; then its schema validates `value` (what the first handed on:
 * validators stack, each seeing the last one's output), and its output is handed on. Each
 * refusal is decided as the route's mode says. An unbound route refuses the body as
 * `takeBody` would (report mode reports it and hands `value` on).
 */
export function retakeBody(
  scope: BodyScope,
  route: CompiledRoute | undefined,
  request: BodyRequest,
  value: unknown,
  taken: TakenBody,
  done: BodyCallback,
): void {
  new BodyTask(scope, route, request, done).retake(value, taken)
}

/**
 * For an adapter whose framework handed a body to another parser instead of safebody (a
 * fastify content-type parser registered after the plugin), on a bound route: the body
 * safebody never read is refused as a content type outside the route's list (415; with no
 * route, as a body on a route with no binding, `route.schema.missing`), after
 * the signature header the route requires is read (401 without it), as a read refuses it.
 * Report mode reports it and leaves the application's value (`unread`), as it leaves a type
 * no format decodes; a signed route refuses it in every mode, since it cannot be verified.
 */
export function foreignBody(
  scope: BodyScope,
  route: CompiledRoute | undefined,
  request: BodyRequest,
  done: BodyCallback,
): void {
  new BodyTask(scope, route, request, done).foreign()
}

/**
 * For an adapter that found the stream consumed, or a body set, by another parser before
 * safebody: a body can no longer be checked, a server fault (500, not exposed), thrown. A
 * request without one lost nothing and goes on as bodiless; true when its binding, in
 * enforce mode, must not hand on what the parser made of nothing (body-parser's and
 * @koa/bodyparser's `{}`), which no schema checked. Report mode and an unbound route leave
 * the application's value as it came.
 */
export function parsedElsewhere(
  headers: HeaderBag,
  source: BodySource,
  route: CompiledRoute | undefined,
): boolean {
  // A request its client cut short is read, and refused as aborted, as if nothing came first.
  if (hasBody(headers, source) && !cutShort(source)) {
    throw createError(500, 'safebody must run before any other body parser', { expose: false })
  }
  return route !== undefined && route.policy.mode === 'enforce'
}

// A task is what it hands on as `taken`: its fields say how it took (or retook) the body.
class BodyTask implements ReadSink, TakenBody {
  private readonly policy: RoutePolicy
  readonly context: DecodeContext
  format: Format | null = null
  private claim: SignatureClaim | null = null
  integrity: IntegrityPolicy | null = null
  private held: Buffer | null = null
  /** A body that came in chunks, decoded without joining them for good (`bodyChunks`). */
  private parts: Buffer[] | null = null
  private partsLength = 0
  wireLength = 0
  /** False when report mode let by a content type the route's own list refuses. */
  negotiated = true
  previous: TakenBody | null = null
  decoded: DecodeContext
  unclaimed = false
  /** The value another instance handed on, when this task retakes a body. */
  private retaken: unknown = undefined
  /** When the body was first asked for: `timeout` bounds the read and the validation. */
  private started = 0
  /** Read to see whether a body with no Content-Type and no length is empty (`start`). */
  private untyped = false
  /** The body was read from the request's stream, which is spent (`start`). */
  streamRead = false

  constructor(
    private readonly scope: BodyScope,
    private readonly route: CompiledRoute | undefined,
    private readonly request: BodyRequest,
    private readonly done: BodyCallback,
  ) {
    this.policy = route?.policy ?? scope.fallback.policy
    this.context = route?.context ?? scope.fallback.context
    this.decoded = this.context
  }

  start(source: BodySource): void {
    // Only a route whose validator may answer later pays for the clock.
    if (this.route?.mayDefer) this.started = Date.now()
    const { headers } = this.request
    const { policy } = this
    const present = hasBody(headers, source)
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
        // A hand-built Request's stream is read all the same: a byte is a length mismatch
        // (400), none is no body. Its Content-Encoding is moot: no bytes are inflated.
        if (deniedBody(headers, source)) return readBody(source, DECLARED_EMPTY, policy.read, this)
        // On a route bound in enforce mode (or signed), a Node stream's empty body is read, so
        // that the request is taken: a body parser after safebody finds its stream spent (the
        // adapter says so too) rather than making something of nothing that no schema checked
        // (body-parser's and @koa/bodyparser's `{}`).
        if (
          this.route !== undefined &&
          (policy.mode === 'enforce' || this.claim !== null) &&
          unreadStream(source)
        ) {
          return readBody(source, DECLARED_EMPTY, policy.read, this)
        }
        // A signed empty body is verified (and replay-checked) like any other.
        if (this.claim !== null) return this.bodyRead(EMPTY, 0)
        this.absent()
        return this.done(null, noBody)
      }
      if (untypedStream(headers) && (!this.reporting() || this.claim !== null)) {
        // No Content-Type and no length (chunked, HTTP/2): an empty body is no body, as a
        // Content-Length of 0 is, and so is a compressed one that inflates to nothing; the
        // first byte of any other is refused as negotiation would refuse it (415). Report
        // mode leaves such a body unread, unless the route is signed: an unread body cannot
        // be verified, so it is refused there too.
        this.untyped = this.streamRead = true
        const { read } = policy
        return readBody(source, headers, { ...read, limit: 0, wireLimit: read.limit }, this)
      }
      format = this.negotiate(headers['content-type'] as string | undefined)
    } catch (err) {
      return this.refuse(err)
    }
    if (format === unread) return this.done(null, unread)
    this.format = format
    this.streamRead = true
    readBody(source, headers, policy.read, this)
  }

  foreign(): void {
    const { policy, route } = this
    const refusal = route === undefined ? unboundRoute() : parsedByAnother(route.formats)
    try {
      if (policy.integrity !== null) {
        this.integrity = policy.integrity
        this.claim = readSignature(this.request.headers, policy.integrity)
      }
      if (!relaxed(refusal, policy) || this.claim !== null) throw refusal
    } catch (err) {
      return this.refuse(err)
    }
    this.report(refusal)
    this.negotiated = false
    this.done(null, unread)
  }

  retake(value: unknown, taken: TakenBody): void {
    const { route, policy, request } = this
    if (route?.mayDefer) this.started = Date.now()
    this.previous = taken
    this.held = taken.bytes
    this.wireLength = taken.wireLength
    this.decoded = taken.decoded
    this.retaken = value
    // The signature this binding requires (an unbound route's too, in report mode, which
    // reads such a body): unless an instance before made the same check, it is checked here,
    // on the bytes the first read, in the order a read checks it: its header, the content
    // type and the read's rules, then the signature itself (replay included).
    const required = route !== undefined || this.reporting() ? policy.integrity : null
    const check = required !== null && !checkedBefore(taken, required) ? required : null
    const { bytes } = taken
    try {
      if (check !== null) {
        if (bytes === null) {
          throw createError(500, 'safebody read this body before the signature check', {
            expose: false,
          })
        }
        this.claim = readSignature(request.headers, check)
      }
      // No body (taken for its signature alone), or an empty one of no type and no length
      // (compressed, perhaps), is none, as `start` takes it: nothing to negotiate. Read from
      // the stream, it is held to this binding's read rules (inflate, and its bytes on the
      // wire against limit), as `start` would have read it.
      const empty = bytes !== null && bytes.length === 0
      if (empty && (!taken.streamRead || untypedStream(request.headers))) {
        if (taken.streamRead) checkRead(this.policy.own.read, request.headers, 0, taken.wireLength)
      } else {
        this.heldTo(taken)
      }
    } catch (err) {
      return this.refuse(err)
    }
    if (check !== null) {
      let digests: Buffer[]
      try {
        digests = verifySignature(this.claim as SignatureClaim, bytes as Buffer, check)
      } catch (err) {
        return this.refuse(err)
      }
      this.integrity = check
      if (check.replay !== null && !this.firstDelivery(check, check.replay, digests)) return
    }
    this.retakeChecked()
  }

  /**
   * The rules this binding sets itself (`policy.own`; an unbound route's are its instance's,
   * the fallback's) that need no decoding, for a body another instance took: its content
   * types (its own list, or any list where the taker's report mode let the type by; an
   * unbound route refuses as `takeBody` would), and `inflate` and `limit` against the body as
   * read.
   */
  private heldTo(taken: TakenBody): void {
    const { route, request } = this
    const { own } = this.policy
    this.format = taken.format
    if (route === undefined || own.formats || !taken.negotiated) {
      // `negotiate` clears the flag where report mode lets the type by.
      const format = this.negotiate(request.headers['content-type'] as string | undefined)
      if (format !== unread) this.format = format
      this.negotiated = taken.negotiated || (route !== undefined && this.negotiated)
    } else {
      this.negotiated = taken.negotiated
    }
    if (taken.bytes !== null) {
      checkRead(own.read, request.headers, taken.bytes.length, taken.wireLength)
    }
  }

  /**
   * A retaken body that met this binding's read rules and signature: where its structure
   * limits or decoding options are stricter than the taker's, the bytes decoded again with
   * them, as a check; then its schema.
   */
  private retakeChecked(): void {
    const { route, bytes } = this
    const taken = this.previous as TakenBody
    const { format } = taken
    const value = this.retaken
    let out: unknown = value
    try {
      if (bytes !== null && bytes.length === 0) {
        // The taker read an empty body: none, here too (unless this binding requires one).
        this.absent()
        return this.done(null, noBody, this)
      }
      if (bytes !== null && format !== null) {
        const context = stricterDecoding(format, taken.decoded, this.context, this.policy.own)
        if (context !== taken.decoded) {
          bindFormat(formats[format.name], context).decode(bytes, context)
          this.decoded = context
        }
      }
      if (route !== undefined) out = this.validate(value, route)
    } catch (err) {
      return this.refuse(err)
    }
    if (out instanceof Later) this.awaitValidation(out)
    else this.done(null, out, this)
  }

  /** The body as read; one that came in chunks is joined the first time it is asked for. */
  get bytes(): Buffer | null {
    const { parts } = this
    if (parts !== null) {
      this.held = Buffer.concat(parts, this.partsLength)
      this.parts = null
    }
    return this.held
  }

  /**
   * A body in chunks. A textual format decodes them joined in a buffer it does not keep
   * (`joinForText`), and they are joined for good only if something asks for the bytes
   * afterwards (a later instance, a refusal's excerpt). Joined at once, as before, are: a
   * signed body, checked on bytes kept; the other formats', whose values may share memory
   * with their bytes; and chunks under 4 KiB on average, which would hold an object each
   * (a body sent a byte per chunk, one per byte) for as long as the request lives.
   */
  bodyChunks(chunks: Buffer[], length: number, wireLength: number): void {
    const keep =
      this.claim === null &&
      this.format?.textual === true &&
      length >= chunks.length * KEPT_CHUNK_AVERAGE
    const joined = keep ? joinForText(chunks, length) : null
    if (joined === null) return this.bodyRead(Buffer.concat(chunks, length), wireLength)
    this.parts = chunks
    this.partsLength = length
    this.wireLength = wireLength
    this.decode(joined)
  }

  bodyRead(bytes: Buffer, wireLength: number): void {
    this.held = bytes
    this.wireLength = wireLength
    if (this.claim !== null) {
      const integrity = this.integrity as IntegrityPolicy
      let digests: Buffer[]
      try {
        digests = verifySignature(this.claim, bytes, integrity)
      } catch (err) {
        return this.refuse(err)
      }
      // Recorded only once the signature verified: unsigned junk cannot fill the store.
      if (integrity.replay !== null && !this.firstDelivery(integrity, integrity.replay, digests)) {
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
        // Read from the stream, which is spent, or checked for its signature (replay
        // included): handed on as taken, so that a later instance holds the request to its
        // own rules, neither finding the stream consumed nor claiming the delivery again.
        return this.done(null, noBody, this)
      }
      value = (this.format as Format).decode(bytes, this.context)
      if (this.route !== undefined) value = this.validate(value, this.route)
    } catch (err) {
      return this.refuse(err)
    }
    // A validator may answer later (a Standard Schema with async refinements); the common,
    // synchronous case allocates nothing for it.
    if (value instanceof Later) this.awaitValidation(value)
    else this.done(null, value, this)
  }

  /**
   * An async validator's answer, within what the read left of the route's timeout: one that
   * never settles is refused with 408 like a slow body, and its late answer is dropped.
   */
  private awaitValidation(pending: Later): void {
    const { timeout, route } = this.policy.read
    settleBy(
      pending.answer,
      (this.started || Date.now()) + timeout,
      timeout,
      () =>
        limitError(
          'request.timeout',
          `The body was not read and validated within ${timeout} ms`,
          timeout,
          route,
        ),
      (checked) => this.done(null, checked.value, this),
      (err) => this.refuse(err),
    )
  }

  /**
   * Claim the delivery's keys in the replay store. True to go on now; false when the request was
   * refused, or will go on when an asynchronous store answers (within `storeTimeout`, and
   * within what is left of the route's `timeout`). An in-memory store answers at once.
   */
  private firstDelivery(
    integrity: IntegrityPolicy,
    replay: ReplayPolicy,
    digests: readonly Buffer[],
  ): boolean {
    const claim = this.claim as SignatureClaim
    const now = Date.now()
    const keys = deliveryKeys(claim.delivery, replay.header, integrity.scopes, digests)
    const ttl = deliveryTtl(replay, claim.timestamp, integrity.tolerance, now)
    const claimed = claimDelivery(replay.store, keys, ttl)
    const answered = (found: DeliveryClaim): boolean => {
      if (found.outcome === 'new') return true
      if (found.outcome === 'failed') {
        if (this.storeFailed(replay, found.cause)) return true
        // Refused: the sender retries, and must find the keys this claim took free.
        releaseTaken(replay, found.taken)
        return false
      }
      // A replay: the keys taken before the one found seen (another instance lists other
      // secrets) are freed, or a first delivery refused 503 there would find them taken when
      // its sender retries here. The key found seen still blocks this replay's every retry.
      releaseTaken(replay, found.taken)
      const seconds = windowSeconds(replay, claim.timestamp !== null, integrity.tolerance)
      this.refuse(replayed(seconds, this.policy.read.route))
      return false
    }
    if (!(claimed instanceof Promise)) return answered(claimed)
    const { timeout } = this.policy.read
    let refused = false
    settleBy(
      claimed,
      Math.min((this.started || now) + timeout, now + replay.storeTimeout),
      replay.storeTimeout,
      () => new Error(`the replay store did not answer within ${replay.storeTimeout} ms`),
      (found) => {
        if (answered(found)) this.delivered()
      },
      (cause) => {
        if (this.storeFailed(replay, cause)) this.delivered()
        else refused = true
      },
      // The store claimed keys after the request was refused as unanswered: the sender
      // retries, and must not be told its retry is a replay of what was never handled.
      (found) => {
        if (refused) releaseTaken(replay, found.taken)
      },
    )
    return false
  }

  /** Go on once the replay store has answered: decode the body, or (retaken) check it. */
  private delivered(): void {
    if (this.previous === null) this.decode(this.bytes as Buffer)
    else this.retakeChecked()
  }

  /** The store failed: refuse with 503, or (`onStoreError: 'pass'`) report it and go on. */
  private storeFailed(replay: ReplayPolicy, cause: unknown): boolean {
    const err = storeUnavailable(cause)
    if (replay.onStoreError === 'refuse') {
      this.refuse(err)
      return false
    }
    this.scope.log.record(err, 'reported', this.facts())
    this.unclaimed = true
    return true
  }

  readFailed(err: unknown): void {
    if (this.untyped && isBodyError(err) && err.type === 'entity.too.large') {
      try {
        this.negotiate(undefined)
      } catch (unsupported) {
        return this.refuse(unsupported)
      }
    }
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
      if (repeatsContentType(this.request.rawHeaders)) throw repeatedContentType(route.formats)
      return negotiate(header, route.formats)
    } catch (err) {
      if (!relaxed(err, this.policy)) throw err
      const format = reportFormat(header, this.scope.fallback, this.context)
      // A body left unread cannot be verified, so a signed route refuses it instead.
      if (format === unread && this.claim !== null) throw err
      this.report(err)
      this.negotiated = false
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

  /** The value to hand on (or a Later of it); in report mode a refusal is reported instead. */
  private validate(value: unknown, route: CompiledRoute): unknown {
    let checked: unknown
    try {
      checked = route.validate(value)
    } catch (err) {
      return this.relaxValidation(err, value)
    }
    if (!(checked instanceof Later)) return checked
    return new Later(
      checked.answer.then(undefined, (err: unknown) => ({
        value: this.relaxValidation(err, value),
      })),
    )
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

  private refuse(thrown: unknown): void {
    // Something thrown without a value (`throw undefined` in a validator, a promise rejected
    // with nothing) still refuses: the adapters hand on a body when `err` is null.
    const err = thrown ?? createError(500, 'a check failed without saying why', { expose: false })
    if (isBodyError(err)) this.scope.log.record(err, 'refused', this.facts())
    // Told once the bytes received are parsed, so that the adapter sees whether the body
    // arrived in full (see `afterParse`).
    afterParse(() => this.done(err))
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
/** The headers a body its `Content-Length: 0` denies is read with (see `deniedBody`). */
const DECLARED_EMPTY: HeaderBag = { 'content-length': '0' }
// The smallest average chunk a body is kept in, unjoined (see `bodyChunks`).
const KEPT_CHUNK_AVERAGE = 4096

/** A body of undeclared length (chunked, or HTTP/2 and Web streams) with no Content-Type. */
function untypedStream(headers: HeaderBag): boolean {
  return headers['content-type'] === undefined && headers['content-length'] === undefined
}

/**
 * True when an instance along `taken`'s chain made a check that covers `required`: one whose
 * store failed and passed the body on unclaimed covers it only if `required` passes that too.
 */
function checkedBefore(taken: TakenBody, required: IntegrityPolicy): boolean {
  const mustClaim = required.replay !== null && required.replay.onStoreError === 'refuse'
  for (let at: TakenBody | null = taken; at !== null; at = at.previous) {
    if (satisfies(at.integrity, required) && !(mustClaim && at.unclaimed)) return true
  }
  return false
}

/**
 * The mark of a taken body, shared by every copy of safebody in the process: its ESM and
 * CommonJS builds are two, when an application imports it and a library requires it (Node's
 * dual package hazard). A global instance of one and a per-route instance of the other then
 * hold one body to both their rules, as two instances of one copy do. The key names the
 * shape of `TakenBody`; a change to the shape changes the key, so that copies which would
 * read each other wrongly do not recognise each other (the second then finds the stream read,
 * a server fault).
 */
const TAKEN = Symbol.for('safebody.taken-body.v1')
Object.defineProperty(BodyTask.prototype, TAKEN, { value: true })

/**
 * True when `value` is how a safebody instance, of this copy or another, took a body (see
 * `retakeBody`).
 */
export function isTakenBody(value: unknown): value is TakenBody {
  return (
    value instanceof BodyTask ||
    (typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[TAKEN] === true)
  )
}

/** Where an adapter keeps the body taken on each of its requests (`takenBodies`). */
export interface TakenBodies<K extends object> {
  get(request: K): TakenBody | undefined
  set(request: K, taken: TakenBody): void
}

/**
 * The bodies taken on an adapter's requests, kept on each request under a symbol that every
 * copy of safebody in the process shares (see `TAKEN`): a per-route instance finds what a
 * global one of the other build took. A property, as body-parser's `_body` and the fastify
 * plugin's mark: a WeakMap entry per request cost the fastify adapter 2 to 3% of a small
 * request's CPU. What the property holds is read only if it is a taken body.
 */
export function takenBodies<K extends object>(adapter: string): TakenBodies<K> {
  const key = Symbol.for(`safebody.${adapter}.taken-body.v1`)
  return {
    get(request) {
      const held = (request as Record<symbol, unknown>)[key]
      return held !== undefined && isTakenBody(held) ? held : undefined
    },
    set(request, taken) {
      ;(request as Record<symbol, unknown>)[key] = taken
    },
  }
}

/**
 * The decoding a retaking binding holds a body to: the taker's, with each limit or option the
 * binding sets itself that is stricter in its place; the taker's own context when none is (a
 * looser setting cannot refuse what the taker took, so the bytes are not decoded again).
 */
function stricterDecoding(
  format: Format,
  taker: DecodeContext,
  mine: DecodeContext,
  own: OwnRules,
): DecodeContext {
  const { limits } = own
  const was = taker.limits
  const tighter = (set: number | undefined, current: number) =>
    set !== undefined && set < current ? set : current
  const depth = tighter(limits.depth, was.depth)
  const keys = tighter(limits.keys, was.keys)
  const nodes = tighter(limits.nodes, was.nodes)
  const stringLength = tighter(limits.stringLength, was.stringLength)
  const refuseLarge = own.largeIntegers === 'refuse' && taker.largeIntegers === 'string'
  const refuseDuplicates = own.duplicateKeys === 'refuse' && taker.duplicateKeys !== 'refuse'
  // Another message type (not another compilation of the same one) may refuse the bytes.
  const message =
    format.name === 'protobuf' &&
    mine.message !== undefined &&
    mine.message.fullName !== taker.message?.fullName
      ? mine.message
      : taker.message
  if (
    depth === was.depth &&
    keys === was.keys &&
    nodes === was.nodes &&
    stringLength === was.stringLength &&
    !refuseLarge &&
    !refuseDuplicates &&
    message === taker.message
  ) {
    return taker
  }
  return {
    limits: { depth, keys, nodes, stringLength, route: mine.limits.route },
    largeIntegers: refuseLarge ? 'refuse' : taker.largeIntegers,
    duplicateKeys: refuseDuplicates ? 'refuse' : taker.duplicateKeys,
    ...(message === undefined ? {} : { message }),
  }
}

export { noBody, unread }
export type { BodyRequest, BodySource }
