import { isUtf8 } from 'node:buffer'
import protobuf from 'protobufjs'
import { bodyError, isBodyError } from '../errors.js'
import { type DecodeContext, type Format, type LargeIntegers } from './types.js'
import { perRouteFormat } from './per-route.js'
import { guardValue, type StructureLimits, structureError } from '../core/guard.js'
import { binaryText, largeInteger, unmapped } from './datamodel.js'

/**
 * Protocol Buffers, with protobufjs, for the message type bound to the route. The decoded
 * message becomes a plain object by the proto3 JSON mapping: keys are JSON names
 * (lowerCamelCase), fields without presence that hold their default are left out, bytes are
 * base64, enums are names, 64-bit integers are numbers when exact (else refused, or decimal
 * text), map keys are strings. Unlike that mapping, nothing is dropped silently: an unknown
 * field, a field sent with the wrong wire type, and an enum number the type does not define
 * are all refused with 400.
 */
export const protobufFormat: Format = perRouteFormat(
  {
    name: 'protobuf',
    mediaTypes: [
      'application/x-protobuf',
      'application/protobuf',
      'application/vnd.google.protobuf',
    ],
    textual: false,
  },
  createProtobufDecoder,
)

/** Build a route's protobuf decoder; throws at start-up if the route has no message type. */
function createProtobufDecoder(context: DecodeContext): (bytes: Buffer) => unknown {
  const { message, limits } = context
  if (message === undefined) {
    throw new Error(
      'safebody: the protobuf format needs a message type: bind { message: "pkg.Type" }',
    )
  }
  const plan = planFor(message, new Map())
  const plain: PlainContext = {
    mode: context.largeIntegers ?? 'refuse',
    limits,
    long: new Set<string>(),
  }
  return (bytes) => {
    let decoded: protobuf.Message
    try {
      decoded = message.decode(new StrictReader(bytes))
    } catch (cause) {
      throw decodeFailure(cause, limits)
    }
    if (plain.long.size > 0) plain.long.clear()
    return guardValue(toPlain(decoded, plan, plain), limits, undefined, plain.long)
  }
}

/**
 * A reader that refuses what protobufjs would skip: every unknown field, and every field
 * with the wrong wire type, goes through `skipType`; closed-enum values it does not know
 * go through a `discardUnknown` check. Both throw here instead of losing the value.
 * Strings are strict UTF-8 in every syntax: protobufjs verifies proto3 strings (with an
 * uncatalogued TypeError) but decodes proto2 ones with U+FFFD in place of invalid bytes,
 * so two different byte strings would arrive as one.
 */
class StrictReader extends protobuf.BufferReader {}
function strictString(this: protobuf.Reader): string {
  const bytes = this.bytes()
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (!isUtf8(view)) {
    throw bodyError('entity.utf8.invalid', 'A string in the body is not valid UTF-8.')
  }
  return view.toString('utf8')
}
Object.defineProperties(StrictReader.prototype, {
  string: { value: strictString },
  stringVerify: { value: strictString },
  skipType: {
    value() {
      throw bodyError(
        'entity.field.unknown',
        'The body holds a field the message type does not define.',
      )
    },
  },
  discardUnknown: {
    get() {
      throw bodyError(
        'entity.field.unknown',
        'The body holds a value the message type does not define.',
      )
    },
    set() {},
  },
})

/** What the converter needs to know about one field, worked out once per message type. */
interface FieldPlan {
  readonly name: string
  readonly key: string
  readonly kind: 'plain' | 'long' | 'bytes' | 'enum' | 'message'
  readonly container: 'single' | 'repeated' | 'map'
  readonly longKey: boolean
  readonly unsignedKey: boolean
  readonly enumNames?: Readonly<Record<number, string>>
  /** Set after construction, so recursive message types share one plan. */
  message?: TypePlan
}
type TypePlan = readonly FieldPlan[]

function planFor(type: protobuf.Type, plans: Map<protobuf.Type, FieldPlan[]>): TypePlan {
  const known = plans.get(type)
  if (known) return known
  const plan: FieldPlan[] = []
  plans.set(type, plan)
  for (const field of type.fieldsArray) {
    field.resolve()
    const key = field.jsonName ?? field.name
    if (key === '__proto__' || field.name === '__proto__') {
      throw new Error(`safebody: protobuf field "${type.fullName}.${field.name}" cannot be mapped`)
    }
    const resolved = field.resolvedType
    const keyType = field.map ? (field as unknown as protobuf.MapField).keyType : ''
    const entry: FieldPlan = {
      name: field.name,
      key,
      kind:
        resolved instanceof protobuf.Enum
          ? 'enum'
          : resolved instanceof protobuf.Type
            ? 'message'
            : field.long
              ? 'long'
              : field.bytes
                ? 'bytes'
                : 'plain',
      container: field.map ? 'map' : field.repeated ? 'repeated' : 'single',
      longKey: /64$/.test(keyType),
      unsignedKey: keyType === 'uint64' || keyType === 'fixed64',
      ...(resolved instanceof protobuf.Enum ? { enumNames: resolved.valuesById } : {}),
    }
    plan.push(entry)
    if (resolved instanceof protobuf.Type) entry.message = planFor(resolved, plans)
  }
  return plan
}

/**
 * A decoded message to a plain object. Own properties are what the wire carried: protobufjs
 * deletes a field without presence that arrives with its default, and keeps defaults on the
 * prototype, so an own-property test is the proto3 JSON mapping's "omit defaults". Message
 * nesting is bounded by protobufjs's recursion limit (100), so recursing here is safe.
 */
function toPlain(
  message: protobuf.Message,
  plan: TypePlan,
  plain: PlainContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const source = message as unknown as Record<string, unknown>
  for (const field of plan) {
    if (!Object.hasOwn(source, field.name)) continue
    const value = source[field.name]
    if (field.container === 'single') out[field.key] = toPlainValue(value, field, plain)
    else if (field.container === 'repeated') {
      // The constructor gives every message its own empty arrays and maps; the wire cannot
      // tell empty from absent, and the mapping leaves both out.
      const items = value as unknown[]
      if (items.length > 0) out[field.key] = items.map((item) => toPlainValue(item, field, plain))
    } else {
      const entries = Object.entries(value as Record<string, unknown>)
      if (entries.length === 0) continue
      const map: Record<string, unknown> = {}
      for (const [rawKey, item] of entries) {
        const key = field.longKey ? longKey(rawKey, field.unsignedKey) : rawKey
        // protobufjs makes a `__proto__` map key an own property; assigning it here would
        // set the prototype instead, so it is refused before it can be.
        if (key === '__proto__') {
          throw bodyError('entity.forbidden.key', 'The key "__proto__" is not allowed in a body.')
        }
        // A 64-bit key 0 has two spellings (`longKey`): sent both ways, which came last on
        // the wire (and wins, by protobuf's rule) is lost, so neither is picked.
        if (field.longKey && Object.hasOwn(map, key)) throw zeroKeyTwice()
        map[key] = toPlainValue(item, field, plain)
      }
      out[field.key] = map
    }
  }
  return out
}

/**
 * A 64-bit map key as decimal text. protobufjs keys such a map by the 8-character hash of
 * the key's Long, except for an entry that leaves its key out: that one is the default, the
 * number 0, so its key is `"0"`, which is no hash (read as one, it would be 48).
 */
function longKey(rawKey: string, unsigned: boolean): string {
  return rawKey.length === 8 && hashedLongs
    ? String(protobuf.util.longFromHash(rawKey, unsigned))
    : rawKey
}

/** A 64-bit map key 0 both left out and sent in one map: no option decides it. */
function zeroKeyTwice() {
  return bodyError(
    'entity.key.duplicate',
    'A map in the body has the 64-bit key 0 twice, once left out and once sent; protobuf keeps the last, which cannot be told here.',
  )
}

// protobufjs reads 64-bit integers as Longs where it finds the long package (a dependency
// of it), which is null otherwise: then every key is a number's decimal text.
const hashedLongs = Boolean(protobuf.util.Long)

/** What mapping a message needs besides its plan: the integer mode, the limits, long binaries. */
interface PlainContext {
  readonly mode: LargeIntegers
  readonly limits: StructureLimits
  readonly long: Set<string>
}

function toPlainValue(value: unknown, field: FieldPlan, plain: PlainContext): unknown {
  switch (field.kind) {
    case 'plain':
      return value
    case 'message':
      return toPlain(value as protobuf.Message, field.message as TypePlan, plain)
    case 'bytes':
      // A map entry that leaves its bytes value out holds protobufjs's default, an empty
      // array, not a Uint8Array.
      return binaryText(value instanceof Uint8Array ? value : NO_BYTES, plain.limits, plain.long)
    case 'enum': {
      const name = (field.enumNames as Record<number, string>)[value as number]
      if (name === undefined) throw unmapped('an enum number the message type does not define')
      return name
    }
    case 'long': {
      if (typeof value === 'number') return largeInteger(BigInt(value), plain.mode)
      const long = value as protobuf.Long
      const high = long.unsigned ? long.high >>> 0 : long.high | 0
      const low = long.low >>> 0
      // With |high| below 2^21 the value is below 2^53 in magnitude: exact as a number.
      if (high > -0x200000 && high < 0x200000) return high * 0x1_0000_0000 + low
      return largeInteger((BigInt(high) << 32n) + BigInt(low), plain.mode)
    }
  }
}

const NO_BYTES = new Uint8Array(0)

/** protobufjs's exceptions, each to one catalogued refusal; ours pass through. */
function decodeFailure(cause: unknown, limits: StructureLimits) {
  if (isBodyError(cause)) return cause
  const message = cause instanceof Error ? cause.message : ''
  // protobufjs stops at 100 nested messages or groups; a deeper stack overflow is caught too.
  if (message === 'max depth exceeded' || /call stack/i.test(message)) {
    return structureError('entity.too.deep', limits, { cause })
  }
  return bodyError('entity.parse.failed', 'The body is not valid protobuf for this message type.', {
    cause,
  })
}
