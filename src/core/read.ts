import { IncomingMessage } from 'node:http'
import { type Duplex, Readable } from 'node:stream'
import zlib from 'node:zlib'
import bytes from 'bytes'
import createError from 'http-errors'
import {
  type BodyError,
  type BodyErrorProps,
  bodyError,
  isBodyError,
  limitError,
  settingNote,
} from '../errors.js'
import { type Deadline, UNTIMED, unwatch, watch } from './deadline.js'
import type { HeaderBag } from './request.js'
import { unsharedShapes } from './shape.js'
import { createZstdInflater, hasZstd } from './zstd.js'

/** How a body may be read: at most `limit` bytes (on the wire and inflated) in `timeout` ms. */
export interface ReadPolicy {
  readonly limit: number
  readonly timeout: number
  /** Whether gzip, deflate, br (and zstd) bodies are inflated; if not, they are refused with 415. */
  readonly inflate: boolean
  /** The route this policy belongs to (`'POST /users'`), named in refusals. */
  readonly route?: string
  /**
   * The most bytes on the wire, where it is not `limit`: a body of no type may be read only
   * to find it empty (`limit` 0), and a compressed one needs its coded bytes read for that.
   */
  readonly wireLimit?: number
  /** The option `limit` came from, as a refusal names it, where it is not `limit` (`bodyLimit`). */
  readonly limitSetting?: string
}

/** A Node readable stream of body bytes, such as an `http.IncomingMessage`. */
export interface NodeBodyStream {
  on(event: string, listener: (...args: never[]) => void): unknown
  pause(): unknown
  resume?(): unknown
  readonly readable?: boolean
  /** IncomingMessage: the whole message has arrived. */
  readonly complete?: boolean
  readonly destroyed?: boolean
}

/** Where the body comes from: a Node stream, a Web stream, or bytes already read. */
export type BodySource = NodeBodyStream | ReadableStream<Uint8Array> | Uint8Array

/**
 * Who is told how the read ended: with the bytes (inflated) and how many came off the wire,
 * or with a refusal.
 */
export interface ReadSink {
  bodyRead(bytes: Buffer, wireLength: number): void
  /**
   * A body that came in two or more chunks (`length` bytes in all), handed over as it came,
   * to a sink that joins them only if it keeps them. Without this method they are joined
   * and given to `bodyRead`. The sink may keep the chunks for as long as the request lives:
   * a stream that reuses a chunk's memory after the chunk's 'data' event is not supported.
   */
  bodyChunks?(chunks: Buffer[], length: number, wireLength: number): void
  readFailed(err: unknown): void
}

/**
 * True when the request carries a body: chunked, or a Content-Length above zero. A
 * `Content-Length: 0` (or `00`) is no body, so a bodiless POST passes through like a GET. Without
 * either header an HTTP/1.1 request has no body, but HTTP/2 and the Fetch API may send one
 * all the same, so `source` decides: an HTTP/2 request whose stream did not end with its
 * headers, or a Web stream (a `Request`'s body is null when it has none), is a body.
 */
export function hasBody(headers: HeaderBag, source?: BodySource): boolean {
  if (headers['transfer-encoding'] !== undefined) return true
  const length = headers['content-length']
  // Node's parser takes `Content-Length: 00` as zero too.
  if (length !== undefined) {
    return typeof length !== 'string' || length.charCodeAt(0) !== 48 || Number(length) !== 0
  }
  return source !== undefined && undeclaredBody(source)
}

/**
 * True for a Node stream nothing has read to its end yet (an IncomingMessage, or node:http2's
 * compatibility request): a request without a body that a later body parser would still read.
 */
export function unreadStream(source: BodySource): boolean {
  return source instanceof Readable && readableOf(source) !== false
}

/**
 * True when `Content-Length: 0` says no body (`hasBody` is false) but the source carries one
 * all the same: a Web stream (a hand-built `Request`, as `app.request()` makes) or bytes. It is
 * read, so that a byte is refused as a length mismatch rather than dropped unread. Node's
 * parser frames an IncomingMessage by its Content-Length, so a Node stream never does.
 */
export function deniedBody(headers: HeaderBag, source: BodySource): boolean {
  return (
    headers['content-length'] !== undefined &&
    !(source instanceof Readable) &&
    undeclaredBody(source)
  )
}

function undeclaredBody(source: BodySource): boolean {
  if (source instanceof Uint8Array) return source.byteLength > 0
  if (source instanceof Readable) {
    // node:http2's compatibility request (Express, Koa, fastify and node:http2 servers).
    const { stream } = source as { stream?: { endAfterHeaders?: unknown } }
    return typeof stream === 'object' && stream !== null && stream.endAfterHeaders === false
  }
  return isWebStream(source)
}

/**
 * Read the whole body into memory, inflating it if it is compressed, and refuse it as soon
 * as it is known to break the policy: a declared length above the limit from the headers
 * alone, before any byte is read; a running count above the limit, on the wire or inflated,
 * as soon as it passes; a body not complete within the timeout; a declared length the body
 * does not match. The same rules hold whatever the source.
 */
export function readBody(
  source: BodySource,
  headers: HeaderBag,
  policy: ReadPolicy,
  sink: ReadSink,
  /** False when the bytes are only counted, then dropped (`discardBody`). */
  keep = true,
): void {
  const declared = headers['content-length']
  const length = declared === undefined ? null : Number(declared)
  if (length !== null && length > (policy.wireLimit ?? policy.limit)) {
    return sink.readFailed(tooLarge(policy, false, { length, expected: length }))
  }
  if (!keep) {
    // Already read by something else: nothing is left to drop.
    if (readableOf(source) === false) return sink.bodyRead(EMPTY, 0)
    return new BodyReader(policy, length, null, sink, false).listen(source as NodeBodyStream)
  }
  // A transfer coding before chunked (`gzip, chunked`) would reach us still applied: Node
  // removes only the chunking. Refused, not handed on as if it were the body. (Without
  // chunked last, Node's parser refuses the request itself.)
  const transfer = headers['transfer-encoding']
  if (transfer !== undefined && transfer !== 'chunked' && codedBeforeChunks(transfer)) {
    return sink.readFailed(
      bodyError(
        'encoding.unsupported',
        'Transfer-Encoding must be chunked alone: send a compressed body with Content-Encoding.',
      ),
    )
  }
  const coding = codingOf(headers['content-encoding'])
  let inflater: Duplex | null = null
  if (coding !== 'identity') {
    if (!policy.inflate) return sink.readFailed(notInflated(policy, coding))
    inflater = createInflater(coding)
    if (inflater === null) return sink.readFailed(unsupportedEncoding(coding))
  }
  const reader = new BodyReader(policy, length, inflater, sink)
  if (source instanceof Uint8Array) {
    reader.wire(Buffer.from(source.buffer, source.byteOffset, source.byteLength))
    return reader.wireEnd()
  }
  // A Node Readable (an IncomingMessage) is told by its prototype chain, not by reading a
  // property: on a request whose prototype a framework replaced, each read is a slow lookup.
  if (!(source instanceof Readable) && isWebStream(source)) return void pumpWeb(source, reader)
  // A stream already read cannot give us its bytes (nor can one decoding to strings: see
  // `listen`): a server fault, reported with raw-body's error so body-parser users see the same.
  // But a request the client cut short before it was read (an HTTP/2 stream cancelled while
  // the application awaited something) is no parser's doing: the client went away.
  if (readableOf(source) === false) {
    if (cutShort(source)) return reader.aborted()
    return sink.readFailed(
      createError(500, 'stream is not readable', { type: 'stream.not.readable' }),
    )
  }
  reader.listen(source)
}

/**
 * True for a request that nothing read and that can no longer be read, because its message
 * never arrived whole: its client reset or closed it. One a parser read is not (node:http2's
 * compatibility request calls an aborted one complete and says `aborted`, also for a stream
 * reset after a parser read its body to the end: `readableDidRead` tells them apart).
 */
export function cutShort(source: BodySource): boolean {
  if (source instanceof Uint8Array || isWebStream(source) || readableOf(source) !== false) {
    return false
  }
  if (Reflect.get(source, 'readableDidRead') === true) return false
  return completeOf(source) === false || Reflect.get(source, 'aborted') === true
}

/**
 * Read a body that nothing takes and drop it: its bytes on the wire are counted against
 * `policy.limit` (413, from Content-Length before any is read) within `policy.timeout` (408),
 * and none is inflated or kept, whatever its Content-Encoding. For a request that no route
 * answers (fastify's 404), so that its connection stays usable. `bodyRead` gets no bytes.
 */
export function discardBody(
  source: NodeBodyStream,
  headers: HeaderBag,
  policy: ReadPolicy,
  sink: ReadSink,
): void {
  readBody(source, headers, policy, sink, false)
}

/**
 * One body read: counts wire and inflated bytes, collects chunks, and ends once. Events after
 * the end are ignored, so its listeners are never removed (they go with the request); its
 * timeout is a shared sweep (deadline.ts), not a timer each.
 */
class BodyReader implements Deadline {
  expiresAt = UNTIMED
  watched = false
  prevDeadline: Deadline | null = null
  nextDeadline: Deadline | null = null
  private first: Buffer | null = null
  private chunks: Buffer[] | null = null
  /** The small chunks after the first, copied together (`hold`). */
  private copied: Coalescer | null = null
  /** The same for the small chunks on their way to the inflater. */
  private copiedWire: Coalescer | null = null
  private received = 0
  private wireBytes = 0
  private settled = false
  /** The last byte came off the wire; an inflater may still be at work on them. */
  private wireEnded = false
  private stream: NodeBodyStream | null = null
  private cancelWeb: (() => void) | null = null
  /** Where the read is in `arriving`, while it waits for the arrival check; else -1. */
  arrival = -1

  constructor(
    private readonly policy: ReadPolicy,
    /**
     * The declared length, which the bytes on the wire must match: an identity body's are
     * checked once read (`complete`), a compressed body's as they come and when the wire ends.
     */
    private readonly length: number | null,
    private readonly inflater: Duplex | null,
    private readonly sink: ReadSink,
    /** False when the bytes are only counted, then dropped (`discardBody`). */
    private readonly keep = true,
  ) {
    if (inflater !== null) {
      inflater.on('data', (chunk: Buffer) => this.accept(chunk))
      inflater.on('end', () => this.inflated(inflater))
      inflater.on('error', (err: unknown) =>
        this.fail(bodyError('entity.encoding.invalid', undefined, { cause: err })),
      )
    }
  }

  /** Read a Node stream; the deadline is watched while bytes are still to come. */
  listen(stream: NodeBodyStream): void {
    this.stream = stream
    // A stream given an encoding hands out strings: their bytes are lost, so it is refused
    // at its first chunk (checked there rather than by reading `readableEncoding` first).
    stream.on('data', (chunk: Buffer | string) =>
      typeof chunk === 'string' ? this.fail(encodingSet()) : this.wire(chunk),
    )
    stream.on('end', () => this.wireEnd())
    // A 'data' listener starts a stream flowing, but not one paused on purpose (`req.pause()`
    // in a middleware before): that one would never end, nor, complete, ever time out.
    stream.resume?.()
    const complete = completeOf(stream)
    // An http.IncomingMessage (it has `complete`) emits 'error' only to listeners, and
    // 'close' in every case, so 'close' alone sees a client that went away. Any other stream
    // would throw an unheard error, so it gets a listener.
    if (typeof complete !== 'boolean') {
      stream.on('error', (err: unknown) => this.fail(asBodyError(err)))
    }
    // A message already complete cannot be cut short: no abort to watch for, no deadline.
    if (complete === true) return
    // Nor, most often, can one that is not complete yet: node:http hands a request on as
    // soon as its headers are parsed, before the body that came in the same read from the
    // socket. Its parser calls into JavaScript once per event and runs the tick and microtask
    // queues after each call, so a tick after the headers the body is still unparsed; once
    // the whole read is parsed (`setImmediate`), a small body is complete. So the deadline
    // and the 'close' listener wait for that, for a body still arriving then. The reads begun
    // in one turn of the event loop share one check (`arriving`), not an Immediate each.
    awaitArrival(this)
  }

  /** After the read `listen` began in: a body still arriving is watched for its deadline and an abort. */
  watchArrival(): void {
    const { stream } = this
    if (stream === null || this.settled || this.wireEnded || completeOf(stream) === true) return
    // Destroyed in between: its 'close' may already have been emitted.
    if (stream.destroyed) return this.aborted()
    // A stream that ended is closed by its autoDestroy (any stream but an IncomingMessage,
    // whose `complete` says so), perhaps while the inflater is still at work: not an abort.
    stream.on('close', () => {
      if (!this.wireEnded && completeOf(stream) !== true) this.aborted()
    })
    watch(this)
  }

  /** How long the read may take (the deadline sweep reads it). */
  get timeout(): number {
    return this.policy.timeout
  }

  /** A chunk as it came off the wire. */
  wire(chunk: Buffer): void {
    if (this.settled) return
    this.wireBytes += chunk.length
    if (this.wireBytes > (this.policy.wireLimit ?? this.policy.limit)) {
      return this.fail(tooLarge(this.policy, false, { received: this.wireBytes }))
    }
    const { inflater } = this
    if (inflater === null) return this.accept(chunk)
    const { length, wireBytes } = this
    if (length !== null && wireBytes > length) return this.mismatch(wireBytes, length)
    // Small chunks reach zlib copied together, or each would wait in its write queue.
    if (chunk.length >= COPIED_CHUNK || wireBytes === chunk.length) {
      this.copiedWire?.writeTo(inflater)
      inflater.write(chunk)
    } else {
      const full = (this.copiedWire ??= new Coalescer()).add(chunk, wireBytes)
      if (full !== null) inflater.write(full)
    }
  }

  /** A chunk of the body itself (inflated, if it was compressed). */
  accept(chunk: Buffer): void {
    if (this.settled) return
    this.received += chunk.length
    if (this.received > this.policy.limit) {
      return this.fail(tooLarge(this.policy, this.inflater !== null, { received: this.received }))
    }
    if (!this.keep) return
    if (this.first === null) this.first = chunk
    else this.hold(chunk)
  }

  /**
   * A chunk after the first. One under 4 KiB is copied into a buffer it shares with the
   * small chunks after it, up to 16 KiB, not kept as it came: a body sent a byte per chunk
   * (chunked, HTTP/2, a Web stream) would otherwise hold a Buffer object for each byte until
   * the read ends, about 190 bytes of heap for every byte `limit` lets in.
   */
  private hold(chunk: Buffer): void {
    const chunks = (this.chunks ??= [this.first as Buffer])
    if (chunk.length >= COPIED_CHUNK) {
      this.copied?.pushTo(chunks)
      chunks.push(chunk)
    } else {
      const full = (this.copied ??= new Coalescer()).add(chunk, this.received)
      if (full !== null) chunks.push(full)
    }
  }

  wireEnd(): void {
    if (this.settled) return
    this.wireEnded = true
    const { inflater, length, wireBytes } = this
    if (inflater === null) return this.complete()
    if (length !== null && wireBytes !== length) return this.mismatch(wireBytes, length)
    if (wireBytes === 0) {
      // Nothing was sent: no body, as with `Content-Length: 0`, whatever the coding says.
      inflater.destroy()
      return this.complete()
    }
    this.copiedWire?.writeTo(inflater)
    inflater.end()
  }

  /**
   * The compressed stream ended. Bytes after its end (garbage, padding, a second deflate or
   * br stream) are refused, never dropped: zlib reports what it consumed in `bytesWritten`.
   * Concatenated gzip members are one body, consumed whole.
   */
  inflated(inflater: Duplex): void {
    const consumed = (inflater as { bytesWritten?: unknown }).bytesWritten
    if (typeof consumed === 'number' && consumed < this.wireBytes) {
      return this.fail(
        bodyError(
          'entity.encoding.invalid',
          'The body has bytes after the end of its compressed data.',
        ),
      )
    }
    this.complete()
  }

  complete(): void {
    if (this.settled) return
    const { length, received } = this
    // A compressed body's wire was held to its length before it was inflated (`wireEnd`).
    if (length !== null && received !== length && this.inflater === null) {
      return this.mismatch(received, length)
    }
    const { first, chunks, sink, wireBytes } = this
    if (chunks !== null) this.copied?.pushTo(chunks)
    this.settle()
    if (chunks === null) sink.bodyRead(first ?? EMPTY, wireBytes)
    else if (sink.bodyChunks !== undefined) sink.bodyChunks(chunks, received, wireBytes)
    else sink.bodyRead(Buffer.concat(chunks, received), wireBytes)
  }

  /** The bytes on the wire, `received` of them, are not the declared `length`. */
  private mismatch(received: number, length: number): void {
    this.fail(bodyError('request.size.invalid', undefined, { received, expected: length, length }))
  }

  aborted(): void {
    // `received` counts inflated bytes, so a compressed body's declared length is left out.
    const length = this.inflater === null ? this.length : null
    this.fail(
      bodyError('request.aborted', undefined, {
        received: this.received,
        ...(length === null ? {} : { expected: length, length }),
      }),
    )
  }

  expire(): void {
    this.fail(
      limitError(
        'request.timeout',
        `The body did not arrive within ${this.policy.timeout} ms`,
        this.policy.timeout,
        this.policy.route,
      ),
    )
  }

  fail(err: unknown): void {
    if (this.settled) return
    this.settle()
    const { stream, inflater } = this
    if (stream !== null) stream.pause()
    if (inflater !== null) inflater.destroy()
    if (this.cancelWeb !== null) this.cancelWeb()
    this.sink.readFailed(err)
  }

  /** A Web stream's reader, cancelled if the read is refused before the stream ends. */
  cancelWith(cancel: () => void): void {
    this.cancelWeb = cancel
  }

  private settle(): void {
    this.settled = true
    this.first = null
    this.chunks = null
    this.copied = this.copiedWire = null
    if (this.arrival !== -1) leaveArrivals(this)
    unwatch(this)
  }
}

const EMPTY = Buffer.alloc(0)
// Chunks smaller than this are copied together (`hold`), into buffers of up to COPIED_BUFFER.
const COPIED_CHUNK = 4096
const COPIED_BUFFER = 16384

/** Small chunks copied one after another into a buffer, handed on when it is full. */
class Coalescer {
  private buffer: Buffer | null = null
  private used = 0

  /**
   * Copy `chunk` in. Returns the buffer it filled before, to be handed on, or null. A new
   * buffer is as large as the body so far (`sofar`), up to COPIED_BUFFER: a short body in a
   * few chunks gets a small one.
   */
  add(chunk: Buffer, sofar: number): Buffer | null {
    let full: Buffer | null = null
    let { buffer } = this
    if (buffer !== null && this.used + chunk.length > buffer.length) {
      full = this.take()
      buffer = null
    }
    if (buffer === null) {
      buffer = this.buffer = Buffer.allocUnsafe(
        Math.max(chunk.length, Math.min(COPIED_BUFFER, sofar)),
      )
    }
    chunk.copy(buffer, this.used)
    this.used += chunk.length
    return full
  }

  /** Hand on what was copied in and not handed on yet, onto `chunks`. */
  pushTo(chunks: Buffer[]): void {
    const held = this.take()
    if (held !== null) chunks.push(held)
  }

  /** The same, written to `stream`. */
  writeTo(stream: Duplex): void {
    const held = this.take()
    if (held !== null) stream.write(held)
  }

  /** What was copied in and not handed on yet (null if nothing), and start afresh. */
  private take(): Buffer | null {
    const { buffer, used } = this
    this.buffer = null
    this.used = 0
    return buffer === null || used === 0 ? null : buffer.subarray(0, used)
  }
}

/**
 * True when a plain load of the stream's properties hits V8's inline cache: for a stream of
 * Node's own request class, whose hidden class is the same from one request to the next (where
 * `Reflect.get`'s generic lookup costs 0.2 µs a request: fastify, Koa, node:http), and for
 * every stream where V8 shares hidden classes among requests whose prototype a framework
 * replaced (Node 24; see `unsharedShapes`). On Node 20 to 23 such a request (Express's) has a
 * hidden class of its own, which misses the cache on every request: it is read with
 * `Reflect.get` (see ExpressRequest), as is any other stream.
 */
function plainLoads(stream: object): boolean {
  return !unsharedShapes || Object.getPrototypeOf(stream) === IncomingMessage.prototype
}

/** The stream's `complete` (an http.IncomingMessage's), read as `plainLoads` says. */
function completeOf(stream: object): unknown {
  return plainLoads(stream) ? (stream as IncomingMessage).complete : Reflect.get(stream, 'complete')
}

/**
 * The reads whose arrival is to be checked once the current socket reads are parsed. A read
 * leaves as it ends (`leaveArrivals`), so the list holds only reads still under way: a
 * driver that never lets the event loop reach its check phase (a benchmark, a test awaiting
 * one request after another) would otherwise pile up every ended read, and the body its sink
 * holds, until the check ran.
 */
let arriving: BodyReader[] = []
/** An Immediate for `checkArrivals` is pending. */
let arrivalCheck = false

function awaitArrival(reader: BodyReader): void {
  reader.arrival = arriving.push(reader) - 1
  if (!arrivalCheck) {
    arrivalCheck = true
    setImmediate(checkArrivals)
  }
}

/** Take an ended read off the list: the last one takes its place. */
function leaveArrivals(reader: BodyReader): void {
  const at = reader.arrival
  reader.arrival = -1
  const last = arriving.pop() as BodyReader
  if (last !== reader) {
    arriving[at] = last
    last.arrival = at
  }
}

function checkArrivals(): void {
  arrivalCheck = false
  const readers = arriving
  arriving = []
  // All off the list before any is checked: a read that ends while another is watched (a
  // sink's refusal may end other reads) must not be taken off the new list by its old place.
  for (const reader of readers) reader.arrival = -1
  let checked = 0
  try {
    for (const reader of readers) {
      checked++
      reader.watchArrival()
    }
  } finally {
    // A read whose refusal threw leaves the others to the next turn, as Node does Immediates.
    if (checked < readers.length) {
      const waiting = arriving
      arriving = []
      for (const reader of readers.slice(checked).concat(waiting)) awaitArrival(reader)
    }
  }
}

/** The stream's `readable`, read as `plainLoads` says. */
function readableOf(stream: object): unknown {
  return plainLoads(stream) ? (stream as IncomingMessage).readable : Reflect.get(stream, 'readable')
}

function isWebStream(source: BodySource): source is ReadableStream<Uint8Array> {
  return typeof (source as ReadableStream<Uint8Array>).getReader === 'function'
}

/**
 * Feed a Web stream to the reader. A stream that errors is a client that went away; one that
 * hands out something other than bytes is the server's own fault (`chunkNotBytes`).
 */
async function pumpWeb(stream: ReadableStream<Uint8Array>, reader: BodyReader): Promise<void> {
  const web = stream.getReader()
  reader.cancelWith(() => {
    web.cancel().catch(() => undefined)
  })
  watch(reader)
  try {
    for (;;) {
      const { done, value } = await web.read()
      if (done) return reader.wireEnd()
      // Typed as bytes, but the code that built the stream may enqueue anything.
      if (!ArrayBuffer.isView(value)) return reader.fail(chunkNotBytes(value))
      reader.wire(Buffer.from(value.buffer, value.byteOffset, value.byteLength))
    }
  } catch {
    reader.aborted()
  }
}

/**
 * Hold a body another read already took to `policy`, as if this read had taken it: a
 * compressed body where `inflate` is false (415), or more than `limit` bytes on the wire or
 * inflated (413). Throws the refusal this read would have made.
 */
export function checkRead(
  policy: ReadPolicy,
  headers: HeaderBag,
  length: number,
  wireLength: number,
): void {
  const coding = codingOf(headers['content-encoding'])
  if (coding !== 'identity' && !policy.inflate) throw notInflated(policy, coding)
  if (wireLength > policy.limit) throw tooLarge(policy, false, { received: wireLength })
  if (length > policy.limit) {
    throw tooLarge(policy, coding !== 'identity', { received: length })
  }
}

function notInflated(policy: ReadPolicy, coding: string): BodyError {
  const note = settingNote('inflate', 'false', policy.route)
  return bodyError('encoding.unsupported', `Compressed bodies are not accepted (${note}).`, {
    encoding: coding,
  })
}

/** The Content-Encoding a header names, lower case; `identity` for none. */
export function codingOf(header: string | string[] | undefined): string {
  if (header === undefined) return 'identity'
  const value = (Array.isArray(header) ? header.join(',') : header).trim().toLowerCase()
  return value === '' ? 'identity' : value
}

/** True when Transfer-Encoding names a coding other than chunked and ends with chunked. */
function codedBeforeChunks(header: string | string[]): boolean {
  const value = Array.isArray(header) ? header.join(',') : header
  const codings = value.split(',').map((coding) => coding.trim().toLowerCase())
  return codings.at(-1) === 'chunked' && codings.some((coding) => coding !== 'chunked')
}

/** The codings this Node inflates; zstd exists from Node 22.15 and 23.8. */
export const codings: readonly string[] = hasZstd
  ? ['gzip', 'deflate', 'br', 'zstd']
  : ['gzip', 'deflate', 'br']

// One coding, applied once: a stacked `gzip, gzip` is refused rather than peeled, since
// each layer multiplies what a small body can inflate to.
function createInflater(coding: string): Duplex | null {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip()
    case 'deflate':
      return zlib.createInflate()
    case 'br':
      return zlib.createBrotliDecompress()
    case 'zstd':
      return createZstdInflater()
    default:
      return null
  }
}

/** A stream's own error, mapped to the catalogue; a server fault (5xx) passes on as it is. */
function asBodyError(err: unknown): unknown {
  if (isBodyError(err)) return err
  const status = (err as { status?: unknown } | null)?.status
  if (typeof status === 'number' && status >= 500) return err
  return bodyError('request.aborted', undefined, { cause: err })
}

function tooLarge(policy: ReadPolicy, inflated: boolean, props: BodyErrorProps): BodyError {
  const limit = bytes.format(policy.limit, { unitSeparator: '' }) ?? String(policy.limit)
  const what = inflated
    ? `The body inflates past the ${limit} limit`
    : `The body is larger than the ${limit} limit`
  const { route, limitSetting } = policy
  return limitError(
    'entity.too.large',
    what,
    limit,
    route,
    { limit: policy.limit, ...props },
    limitSetting,
  )
}

function encodingSet(): Error {
  return createError(500, 'stream encoding should not be set', { type: 'stream.encoding.set' })
}

/**
 * A Web stream that enqueued a string, an ArrayBuffer or anything else but an ArrayBuffer view:
 * no client can send that, so it is a server fault (500, not exposed), as `encodingSet` is.
 */
function chunkNotBytes(chunk: unknown): Error {
  const kind =
    chunk === null
      ? 'null'
      : typeof chunk === 'object'
        ? Object.prototype.toString.call(chunk).slice(8, -1)
        : typeof chunk
  return createError(
    500,
    `Web stream body chunk is ${kind}, not bytes: the code that builds the stream must enqueue ` +
      'Uint8Array (or other ArrayBuffer view) chunks (TextEncoder encodes a string)',
    { type: 'stream.chunk.invalid' },
  )
}

function unsupportedEncoding(coding: string): BodyError {
  return bodyError(
    'encoding.unsupported',
    `Content-Encoding must be ${codings.join(', ').replace(/, ([^,]+)$/, ' or $1')} (or identity), applied once.`,
    { encoding: coding },
  )
}
