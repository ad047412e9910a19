import { isUtf8 } from 'node:buffer'
import {
  DecodeError,
  Decoder,
  type DecoderOptions,
  decodeTimestampToTimeSpec,
  EXT_TIMESTAMP,
  ExtensionCodec,
} from '@msgpack/msgpack'
import { bodyError, isBodyError } from '../errors.js'
import type { DecodeContext, Format, LargeIntegers } from './types.js'
import { perRouteFormat } from './per-route.js'
import { guardValue, type StructureLimits, structureError } from '../core/guard.js'
import {
  binaryText,
  binaryTooLong,
  duplicateKey,
  isoInstant,
  largeInteger,
  unmapped,
} from './datamodel.js'

/**
 * MessagePack, with @msgpack/msgpack. Its decoder is iterative (no stack to overflow) and
 * refuses a `__proto__` map key itself. The data model is applied in the decoder's own pass
 * (`ModelDecoder` below), once per route, with no walk afterwards:
 *
 * - declared lengths, nesting and the running count of values are checked as each header
 *   is read, so a header claiming four billion elements is refused before anything is
 *   allocated;
 * - strings are strict UTF-8 (never repaired) and measured in characters as they are read;
 * - int64 and uint64 are mapped exactly ({@link largeInteger}); NaN and infinities refused;
 * - bin becomes base64 text, the timestamp extension ISO 8601 text, any other extension 400;
 * - only string and integer map keys are accepted, integers as their decimal text, as a
 *   JSON object would hold them.
 *
 * Two rare shapes still go to the guard after the pass: a `constructor` key (it may hold a
 * `prototype`), and nesting that reaches the depth limit (an empty container one level
 * deeper is read without a header to check).
 */
export const msgpackFormat: Format = perRouteFormat(
  {
    name: 'msgpack',
    mediaTypes: ['application/vnd.msgpack', 'application/msgpack', 'application/x-msgpack'],
    textual: false,
  },
  createMsgpackDecoder,
)

/** Build a route's MessagePack decoder: bytes to a guarded value in the data model. */
export function createMsgpackDecoder(context: DecodeContext): (bytes: Buffer) => unknown {
  const { limits } = context
  const decoder = new ModelDecoder(context)
  return (bytes) => {
    let value: unknown
    try {
      value = decoder.decodeModel(bytes)
    } catch (cause) {
      throw decodeFailure(cause, limits)
    }
    if (decoder.needsGuard) guardValue(value, limits, undefined, decoder.longBinaries)
    return value
  }
}

/**
 * The parts of @msgpack/msgpack's Decoder (3.x) that ModelDecoder builds on: its read
 * position, buffer, and the steps it takes per header. Private in its typings, public in
 * its JavaScript; the lockfile pins the version and the tests would fail on a rename.
 */
interface DecoderInternals {
  pos: number
  bytes: Uint8Array
  view: DataView
  readonly maxStrLength: number
  readonly maxExtLength: number
  readonly stack: { readonly length: number; top(): { map?: object } | undefined }
  mapKeyConverter: (key: unknown) => string | number
  stateIsMapKey(): boolean
  hasRemaining(size: number): boolean
  decode(bytes: Uint8Array): unknown
  decodeBinary(byteLength: number, headerOffset: number): Uint8Array
  pushArrayState(size: number): void
  pushMapState(size: number): void
  readU64AsBigInt(): bigint
  readI64AsBigInt(): bigint
  readF32(): number
  readF64(): number
}
type InternalsConstructor = new (options: DecoderOptions<undefined>) => DecoderInternals
const Base = Decoder as unknown as InternalsConstructor
// Thrown by the library when the buffer ends early; we decode whole bodies, so it is malformed.
const TRUNCATED = new RangeError('Insufficient data')

/** @msgpack/msgpack's Decoder with the data model applied as each value is read. */
class ModelDecoder extends Base {
  /** Set by the last decode: a shape the pass could not prove, for the guard to walk. */
  needsGuard = false
  /** Set by the last decode: base64 texts of bin values longer than the string limit. */
  readonly longBinaries = new Set<string>()
  private nodes = 0
  private readonly limits: StructureLimits
  private readonly largeIntegers: LargeIntegers | undefined

  constructor(context: DecodeContext) {
    const { limits } = context
    super({
      extensionCodec,
      useBigInt64: true,
      // UTF-8 bytes: a string of n characters takes at least n bytes, so a longer one
      // may still be within the limit; decodeUtf8String measures exactly.
      maxStrLength: limits.stringLength * 3,
      // bin becomes base64 text, its bytes counted against the string limit.
      maxBinLength: limits.stringLength,
      maxArrayLength: limits.nodes,
      maxMapLength: limits.keys,
      // The only extension with a mapping, the timestamp, is at most 12 bytes.
      maxExtLength: 12,
      keyDecoder: strictKeys,
      mapKeyConverter: mapKey,
    })
    this.limits = limits
    this.largeIntegers = context.largeIntegers
    if (context.duplicateKeys === 'refuse') {
      // The library calls its converter once per key, before the value, with the map being
      // filled on top of its stack: a key already in it is a duplicate. No pass afterwards.
      this.mapKeyConverter = (key) => {
        const name = mapKey(key)
        if (Object.hasOwn(this.stack.top()?.map as object, name)) throw duplicateKey(limits.route)
        return name
      }
    }
  }

  decodeModel(bytes: Uint8Array): unknown {
    this.nodes = 1
    this.needsGuard = false
    if (this.longBinaries.size > 0) this.longBinaries.clear()
    return this.decode(bytes)
  }

  override pushArrayState(size: number): void {
    this.enter(size, size)
    super.pushArrayState(size)
  }

  override pushMapState(size: number): void {
    const { limits } = this
    if (size > limits.keys) {
      throw structureError('entity.too.many.keys', limits)
    }
    this.enter(size, size * 2)
    super.pushMapState(size)
  }

  /**
   * A non-empty container opens: its depth and its values are counted before it is read, and
   * the `least` bytes its values take (one a value) must follow its header. The library makes
   * an array of the declared size first: 5 bytes declaring 10 million values would cost 80 MB
   * and a quarter of a second on a route whose `limit` lets that many nodes in.
   */
  private enter(size: number, least: number): void {
    const { limits } = this
    const depth = this.stack.length + 1
    if (depth > limits.depth) {
      throw structureError('entity.too.deep', limits)
    }
    // An empty array or map one level deeper opens with no header to check here.
    if (depth === limits.depth) this.needsGuard = true
    this.nodes += size
    if (this.nodes > limits.nodes) {
      throw structureError('entity.too.many.nodes', limits)
    }
    if (least > this.bytes.byteLength - this.pos) throw TRUNCATED
  }

  /** Strings: strict UTF-8, measured in characters; keys through the cached key decoder. */
  decodeUtf8String(byteLength: number, headerOffset: number): string {
    if (byteLength > this.maxStrLength) throw structureError('entity.string.too.long', this.limits)
    if (this.bytes.byteLength < this.pos + headerOffset + byteLength) throw TRUNCATED
    const offset = this.pos + headerOffset
    const isKey = this.stateIsMapKey()
    const text = isKey
      ? strictKeys.decode(this.bytes, offset, byteLength)
      : strictString(this.bytes, offset, byteLength)
    if (byteLength > this.limits.stringLength && text.length > this.limits.stringLength) {
      throw structureError('entity.string.too.long', this.limits)
    }
    if (isKey && text === 'constructor') this.needsGuard = true
    this.pos += headerOffset + byteLength
    return text
  }

  /** bin: base64 text; never a map key. */
  override decodeBinary(byteLength: number, headerOffset: number): Uint8Array {
    if (this.stateIsMapKey()) throw notAKey()
    const bytes = super.decodeBinary(byteLength, headerOffset)
    return binaryText(bytes, this.limits, this.longBinaries) as unknown as Uint8Array
  }

  /** Extensions read their payload as bytes; the codec maps the timestamp, refuses the rest. */
  decodeExtension(size: number, headerOffset: number): unknown {
    // The timestamp maps to ISO text, which a key would then pass for: keys are strings or
    // integers on the wire, nothing else.
    if (this.stateIsMapKey()) throw notAKey()
    const at = this.pos + headerOffset
    if (size > this.maxExtLength) {
      // Too long for a timestamp: invalid if it says it is one, else a type with no mapping.
      throw at < this.bytes.byteLength && this.view.getInt8(at) === EXT_TIMESTAMP
        ? invalidTimestamp()
        : unmapped('a MessagePack extension type')
    }
    const type = this.view.getInt8(at)
    const data = super.decodeBinary(size, headerOffset + 1)
    return extensionCodec.decode(data, type, undefined)
  }

  override readU64AsBigInt(): bigint {
    return this.integer(super.readU64AsBigInt()) as unknown as bigint
  }

  override readI64AsBigInt(): bigint {
    return this.integer(super.readI64AsBigInt()) as unknown as bigint
  }

  /** A 64-bit integer, exact: keys are always decimal text, values as `largeIntegers` says. */
  private integer(value: bigint): number | string {
    return largeInteger(value, this.stateIsMapKey() ? 'string' : this.largeIntegers)
  }

  override readF32(): number {
    return this.float(super.readF32())
  }

  override readF64(): number {
    return this.float(super.readF64())
  }

  /**
   * A float: finite, and never a map key. `1.0` would pass for the key `"1"` once read (and
   * `-0.0` for `"0"`, its sign lost): keys are strings or integers on the wire, nothing else.
   */
  private float(value: number): number {
    if (this.stateIsMapKey()) throw notAKey()
    if (value !== Infinity && value !== -Infinity && value === value) return value
    throw unmapped('a number that is not finite')
  }
}

/**
 * Strict UTF-8, as for JSON and YAML: @msgpack/msgpack would repair invalid bytes (U+FFFD,
 * or Latin-1 for short strings), which changes what the client sent and lets an overlong
 * encoding spell a key in bytes that do not contain it.
 */
function strictString(bytes: Uint8Array, start: number, length: number): string {
  const end = start + length
  if (length <= SHORT_STRING) {
    const ascii = asciiString(bytes, start, end)
    if (ascii !== null) return ascii
  }
  const text = Buffer.isBuffer(bytes)
    ? bytes.toString('utf8', start, end)
    : Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('utf8')
  // As many characters as bytes and no U+FFFD: every byte was ASCII, so the text is exact.
  if (text.length === length && text.indexOf('\ufffd') === -1) return text
  // Otherwise the decode may have repaired something: the bytes themselves must be UTF-8.
  if (!isUtf8(bytes.subarray(start, end))) {
    throw bodyError('entity.utf8.invalid', 'A string is not valid UTF-8.')
  }
  return text
}

// Up to this many bytes, an ASCII string is built in JavaScript: cheaper than a call into
// the native UTF-8 decoder (bodies hold many short strings: names, ids, enum values). Past
// 12 characters V8 makes each concatenation a rope that must be flattened later, and the
// native decoder wins (measured on the bench payloads: medium 0.80x -> 1.08x the library).

const SHORT_STRING = 12

/** The string if every byte is ASCII (then it is exactly the text), else null. */
function asciiString(bytes: Uint8Array, start: number, end: number): string | null {
  let text = ''
  for (let i = start; i < end; i++) {
    const byte = bytes[i] as number
    if (byte >= 0x80) return null
    text += String.fromCharCode(byte)
  }
  return text
}

/** Every extension but the timestamp is refused as it is read, before the rest is decoded. */
const extensionCodec = new ExtensionCodec()
for (let type = -128; type <= 127; type++) {
  extensionCodec.register({
    type,
    encode: () => null,
    decode:
      type === EXT_TIMESTAMP
        ? decodeTimestamp
        : () => {
            throw unmapped('a MessagePack extension type')
          },
  })
}

function decodeTimestamp(data: Uint8Array): string {
  let spec: { sec: number; nsec: number }
  try {
    spec = decodeTimestampToTimeSpec(data)
  } catch (cause) {
    throw invalidTimestamp(cause)
  }
  if (spec.nsec > 999_999_999) throw invalidTimestamp()
  return isoInstant(spec.sec, spec.nsec)
}

/** A map key of a type other than string or integer: keys are nothing else on the wire. */
function notAKey() {
  return unmapped('a map key that is not a string or an integer')
}

/** A timestamp extension of a length the spec does not define (4, 8, 12) or nanoseconds past 1 s. */
function invalidTimestamp(cause?: unknown) {
  return bodyError(
    'entity.parse.failed',
    'A MessagePack timestamp is not valid.',
    cause === undefined ? undefined : { cause },
  )
}

/**
 * Map keys go through the same strict decoding, with a small cache (as the library's own
 * key decoder has): bodies repeat the same few keys. `__proto__` is refused as it is read.
 */
const KEY_CACHE_LENGTH = 16
const KEY_CACHE_PER_LENGTH = 16
const keyCache: Array<Array<{ bytes: Uint8Array; key: string }>> = Array.from(
  { length: KEY_CACHE_LENGTH + 1 },
  () => [],
)
const strictKeys = {
  canBeCached: () => true,
  decode(bytes: Uint8Array, offset: number, length: number): string {
    const cached =
      length <= KEY_CACHE_LENGTH ? (keyCache[length] as (typeof keyCache)[0]) : undefined
    if (cached !== undefined) {
      search: for (const record of cached) {
        for (let i = 0; i < length; i++) {
          if (record.bytes[i] !== bytes[offset + i]) continue search
        }
        return record.key
      }
    }
    const key = strictString(bytes, offset, length)
    if (key === '__proto__') {
      throw bodyError('entity.forbidden.key', 'The key "__proto__" is not allowed in a body.')
    }
    if (cached !== undefined) {
      const record = { bytes: Uint8Array.prototype.slice.call(bytes, offset, offset + length), key }
      if (cached.length < KEY_CACHE_PER_LENGTH) cached.push(record)
      else cached[(Math.random() * KEY_CACHE_PER_LENGTH) | 0] = record
    }
    return key
  },
}

function mapKey(key: unknown): string | number {
  if (typeof key === 'string') return key
  if (typeof key === 'number' && Number.isSafeInteger(key)) return String(key)
  throw notAKey()
}

/** The library's exceptions, each to one catalogued refusal; ours pass through. */
function decodeFailure(cause: unknown, limits: StructureLimits) {
  if (isBodyError(cause)) return cause
  const message = cause instanceof Error ? cause.message : ''
  if (cause instanceof DecodeError && message.startsWith('Max length exceeded')) {
    if (message.includes('map length')) {
      return structureError('entity.too.many.keys', limits, { cause })
    }
    if (message.includes('array length')) {
      return structureError('entity.too.many.nodes', limits, { cause })
    }
    if (message.includes('ext length')) return unmapped('a MessagePack extension type')
    if (message.includes('bin length')) return binaryTooLong(limits)
    return structureError('entity.string.too.long', limits, { cause })
  }
  return bodyError('entity.parse.failed', 'The body is not valid MessagePack.', { cause })
}
