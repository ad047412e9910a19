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
import type { DecodeContext, Format } from '../formats.js'
import { guardValue, type StructureLimits } from '../guard.js'
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
export const msgpackFormat: Format = {
  name: 'msgpack',
  mediaTypes: ['application/vnd.msgpack', 'application/msgpack', 'application/x-msgpack'],
  textual: false,
  decode: (bytes, context) => createMsgpackDecoder(context)(bytes),
  bind(context) {
    const decode = createMsgpackDecoder(context)
    return { ...this, decode: (bytes) => decode(bytes), bind: undefined }
  },
}

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
  return (bytes) => {
    let value: unknown
    try {
      value = decoder.decode(bytes)
    } catch (cause) {
      throw decodeFailure(cause, limits)
    }
    return guardValue(value, limits, (item) => {
      if (typeof item === 'bigint') return largeInteger(item, largeIntegers)
      if (item instanceof Uint8Array) {
        return isStringPayload(bytes, item) ? strictString(item) : base64(item)
      }
      if (item instanceof ExtData) throw unmapped('a MessagePack extension type')
      throw unmapped('a value MessagePack cannot carry')
    })
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
  const byte = (i: number) => body[at - i] as number
  if (at >= 1 && n <= 31 && byte(1) === (0xa0 | n)) return true
  if (at >= 2 && n <= 0xff && byte(2) === 0xd9 && byte(1) === n) return true
  if (at >= 3 && n <= 0xffff && byte(3) === 0xda && byte(2) * 0x100 + byte(1) === n) return true
  return (
    at >= 5 &&
    byte(5) === 0xdb &&
    byte(4) * 0x100_0000 + byte(3) * 0x1_0000 + byte(2) * 0x100 + byte(1) === n
  )
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
    if (ascii) return String.fromCharCode(...view)
  }
  if (!isUtf8(view)) throw bodyError('entity.utf8.invalid', 'A string is not valid UTF-8.')
  return Buffer.from(view.buffer, view.byteOffset, n).toString('utf8')
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

/** Map keys go through the same strict decoding; `__proto__` is refused as it is read. */
const strictKeys = {
  canBeCached: () => true,
  decode(bytes: Uint8Array, offset: number, length: number): string {
    const key = strictString(bytes.subarray(offset, offset + length))
    if (key === '__proto__') {
      throw bodyError('entity.forbidden.key', 'The key "__proto__" is not allowed in a body.')
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
