import { isUtf8 } from 'node:buffer'
import {
  DecodeError,
  Decoder,
  decodeTimestampToTimeSpec,
  EXT_TIMESTAMP,
  ExtData,
  ExtensionCodec,
} from '@msgpack/msgpack'
import { bodyError, isBodyError } from '../errors.js'
import { type DecodeContext, type Format } from './types.js'
import { perRouteFormat } from './per-route.js'
import { guardValue, type StructureLimits } from '../core/guard.js'
import { base64, isoInstant, largeInteger, unmapped } from './datamodel.js'

/**
 * MessagePack, with @msgpack/msgpack. Its decoder is iterative (no stack to overflow) and
 * refuses a `__proto__` map key itself; the rest is set up here, once per route:
 *
 * - declared lengths are capped from the route's limits, so a header claiming four billion
 *   elements is refused before anything is allocated;
 * - int64 and uint64 are read as bigints and mapped exactly ({@link largeInteger});
 * - bin becomes base64 text, the timestamp extension ISO 8601 text, any other extension 400;
 * - map keys are decoded as strict UTF-8 (never repaired), and only string and integer keys
 *   are accepted, integers as their decimal text, as a JSON object would hold them.
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
  const { limits, largeIntegers } = context
  const decoder = new Decoder({
    extensionCodec,
    useBigInt64: true,
    // String values come out as bytes and are decoded strictly here (see strictString).
    rawStrings: true,
    // Byte lengths: a UTF-16 code unit takes at most 3 UTF-8 bytes, so a longer string is
    // surely over the limit; the guard then counts exactly. Raw strings and bin share
    // maxBinLength; bin becomes longer base64, which the guard measures too.
    maxStrLength: limits.stringLength * 3,
    maxBinLength: limits.stringLength * 3,
    maxArrayLength: limits.nodes,
    maxMapLength: limits.keys,
    // The only extension with a mapping, the timestamp, is at most 12 bytes.
    maxExtLength: 12,
    keyDecoder: strictKeys,
    mapKeyConverter: mapKey,
  })
  // The body being decoded, for telling str from bin; set and cleared around each
  // synchronous decode, so that the mapper is built once rather than per request.
  let body: Buffer | undefined
  const map = (item: unknown): unknown => {
    if (typeof item === 'bigint') return largeInteger(item, largeIntegers)
    if (item instanceof Uint8Array) {
      return isStringPayload(body as Buffer, item) ? strictString(item) : base64(item)
    }
    if (item instanceof ExtData) throw unmapped('a MessagePack extension type')
    throw unmapped('a value MessagePack cannot carry')
  }
  return (bytes) => {
    let value: unknown
    try {
      value = decoder.decode(bytes)
    } catch (cause) {
      throw decodeFailure(cause, limits)
    }
    body = bytes
    try {
      return guardValue(value, limits, map)
    } finally {
      body = undefined
    }
  }
}

/**
 * With rawStrings, str and bin values both arrive as views into the body; the header just
 * before the view tells them apart. Each str header ends in its length and starts with a
 * byte (a0-bf, d9, da, db) that no bin header (c4, c5, c6 and a length) has in that place,
 * so a match is a str, and anything else a bin.
 */
export function isStringPayload(body: Uint8Array, view: Uint8Array): boolean {
  if (view.buffer !== body.buffer) return false
  const at = view.byteOffset - body.byteOffset
  const n = view.byteLength
  const b1 = at >= 1 ? (body[at - 1] as number) : -1
  if (n <= 31 && b1 === (0xa0 | n)) return true
  const b2 = at >= 2 ? (body[at - 2] as number) : -1
  if (n <= 0xff && b2 === 0xd9 && b1 === n) return true
  const b3 = at >= 3 ? (body[at - 3] as number) : -1
  if (n <= 0xffff && b3 === 0xda && b2 * 0x100 + b1 === n) return true
  if (at < 5 || body[at - 5] !== 0xdb) return false
  return (body[at - 4] as number) * 0x100_0000 + b3 * 0x1_0000 + b2 * 0x100 + b1 === n
}

/**
 * Strict UTF-8, as for JSON and YAML: @msgpack/msgpack would repair invalid bytes (U+FFFD,
 * or Latin-1 for short strings), which changes what the client sent and lets an overlong
 * encoding spell a key in bytes that do not contain it.
 */
function strictString(view: Uint8Array): string {
  const n = view.byteLength
  if (n <= 64) {
    let ascii = true
    for (let i = 0; i < n; i++) {
      if ((view[i] as number) > 0x7f) {
        ascii = false
        break
      }
    }
    if (ascii) return String.fromCharCode.apply(null, view as unknown as number[])
  }
  if (!isUtf8(view)) throw bodyError('entity.utf8.invalid', 'A string is not valid UTF-8.')
  // The decoder hands out subarrays of the body, which is a Buffer: no copy, no wrapper.
  return Buffer.isBuffer(view)
    ? view.toString('utf8')
    : Buffer.from(view.buffer, view.byteOffset, n).toString('utf8')
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
    throw bodyError('entity.parse.failed', 'The body is not valid MessagePack.', { cause })
  }
  if (spec.nsec > 999_999_999) throw bodyError('entity.parse.failed', 'Invalid timestamp.')
  return isoInstant(spec.sec, spec.nsec)
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
    const view = bytes.subarray(offset, offset + length)
    const key = strictString(view)
    if (key === '__proto__') {
      throw bodyError('entity.forbidden.key', 'The key "__proto__" is not allowed in a body.')
    }
    if (cached !== undefined) {
      const record = { bytes: Uint8Array.prototype.slice.call(view), key }
      if (cached.length < KEY_CACHE_PER_LENGTH) cached.push(record)
      else cached[(Math.random() * KEY_CACHE_PER_LENGTH) | 0] = record
    }
    return key
  },
}

function mapKey(key: unknown): string | number {
  if (typeof key === 'string') return key
  if (typeof key === 'number' && Number.isSafeInteger(key)) return String(key)
  if (typeof key === 'bigint') {
    const n = largeInteger(key, 'string')
    return typeof n === 'number' ? String(n) : n
  }
  throw unmapped('a map key that is not a string or an integer')
}

/** The library's exceptions, each to one catalogued refusal; ours pass through. */
function decodeFailure(cause: unknown, limits: StructureLimits) {
  if (isBodyError(cause)) return cause
  const message = cause instanceof Error ? cause.message : ''
  if (cause instanceof DecodeError && message.startsWith('Max length exceeded')) {
    if (message.includes('map length')) {
      return bodyError('entity.too.many.keys', `An object holds more than ${limits.keys} keys.`, {
        cause,
      })
    }
    if (message.includes('array length')) {
      return bodyError(
        'entity.too.many.nodes',
        `The body holds more than ${limits.nodes} values.`,
        {
          cause,
        },
      )
    }
    if (message.includes('ext length')) return unmapped('a MessagePack extension type')
    return bodyError(
      'entity.string.too.long',
      `A string is longer than ${limits.stringLength} characters.`,
      { cause },
    )
  }
  return bodyError('entity.parse.failed', 'The body is not valid MessagePack.', { cause })
}
