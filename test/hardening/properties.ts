import { fileURLToPath } from 'node:url'
import { encode as encodeMsgpack } from '@msgpack/msgpack'
import fc from 'fast-check'
import { dump as dumpYaml } from 'js-yaml'
import { stringify as stringifyForm } from 'qs'
import { maySurrogate, withinLimits } from '../../src/decoders/json.js'
import { isBodyError } from '../../src/errors.js'
import { bindFormat, type DecodeContext, type Format, formats } from '../../src/decoders/formats.js'
import { guardValue, type StructureLimits } from '../../src/core/guard.js'
import { loadProto } from '../../src/core/proto.js'
import { ATTACKS_MESSAGE, ATTACKS_PROTO } from '../fixtures/attacks/protobuf.js'
import { violations } from './oracle.js'

// The fuzz properties, shared by `npm test` (test/hardening/fuzz.test.ts: fixed seed, few
// runs) and `npm run fuzz` (scripts/fuzz.ts: many seeds, minutes). No vitest here.
//
// The contract each checks: whatever the input, a decoder or the guard either returns a
// value that the independent oracle (oracle.ts) finds in the data model and within the
// limits, or throws a catalogued 4xx error; nothing else escapes, and no built-in
// prototype changes.

/** Small limits, so random inputs hit every one of them often. */
export const fuzzLimits: StructureLimits = { depth: 6, keys: 8, nodes: 60, stringLength: 24 }

/** What one run of a property saw, tallied for the fuzz report. */
export type Tally = Map<string, number>

export interface FuzzProperty {
  readonly name: string
  /** Build the property; `tally` counts outcomes (accepted, or the refusal's type). */
  build(tally: Tally): fc.IProperty<unknown[]>
}

const count = (tally: Tally, key: string) => tally.set(key, (tally.get(key) ?? 0) + 1)

/**
 * The contract for one decode: returns a value the oracle accepts, or throws a catalogued
 * error with a 4xx status. Throws (failing the property) otherwise. `exact`, where a format
 * has one right answer (raw: the base64 of the bytes), replaces the oracle with it.
 */
export function checkDecode(
  run: () => unknown,
  tally: Tally,
  limits = fuzzLimits,
  exact?: (value: unknown) => boolean,
): void {
  const before = prototypeSnapshot()
  let value: unknown
  try {
    value = run()
  } catch (err) {
    if (!isBodyError(err) || err.status < 400 || err.status > 499 || err.expose !== true) {
      throw new Error(`an uncatalogued error escaped: ${String(err)}`, { cause: err })
    }
    count(tally, err.type)
    expectPrototypes(before)
    return
  }
  if (exact !== undefined) {
    if (!exact(value)) throw new Error(`accepted, but not the exact value: ${String(value)}`)
  } else {
    const found = violations(value, limits)
    if (found.size > 0) {
      throw new Error(`accepted a value the data model refuses: ${[...found].join(', ')}`)
    }
  }
  count(tally, 'accepted')
  expectPrototypes(before)
}

/** The guard against the oracle: refused exactly when the oracle finds a violation. */
function checkGuard(value: unknown, tally: Tally): void {
  const found = violations(value, fuzzLimits)
  const before = prototypeSnapshot()
  try {
    guardValue(value, fuzzLimits)
  } catch (err) {
    if (!isBodyError(err) || err.status !== 400) throw err
    if (!found.has(err.type)) {
      throw new Error(`guard refused with ${err.type}; the oracle found [${[...found]}]`)
    }
    count(tally, err.type)
    expectPrototypes(before)
    return
  }
  if (found.size > 0) throw new Error(`guard accepted; the oracle found [${[...found]}]`)
  count(tally, 'accepted')
  expectPrototypes(before)
}

const context: DecodeContext = { limits: fuzzLimits }

/**
 * The message types protobuf is fuzzed with, bound as a route binds them (src/proto.ts,
 * bindFormat): the corpus's recursive Item (maps, bytes, int64, double), and the format
 * tests' Kitchen (enums, oneofs, 64-bit map keys, a `prototype` field) and proto2 Old
 * (closed enums, groups).
 */
const protoFixtures = fileURLToPath(new URL('../fixtures/proto/', import.meta.url))
const protoMessages = [ATTACKS_MESSAGE, 'test.Kitchen', 'legacy.Old'] as const
let protoRegistry: ReturnType<typeof loadProto> | undefined
function protobufFor(name: string): { format: Format; type: ReturnType<typeof messageType> } {
  const type = messageType(name)
  return { format: bindFormat(formats.protobuf, { ...context, message: type }), type }
}
function messageType(name: string) {
  protoRegistry ??= loadProto([
    fileURLToPath(ATTACKS_PROTO),
    `${protoFixtures}sample.proto`,
    `${protoFixtures}legacy.proto`,
  ])
  return protoRegistry.messageType(name)
}

/** Random attacks.proto Items in protobufjs's object form (64-bit as decimal strings). */
const { item } = fc.letrec<{ item: Record<string, unknown> }>((tie) => ({
  item: fc.record(
    {
      name: mostly(fc.string({ maxLength: 30 }), fc.constantFrom('__proto__', 'constructor')),
      labels: fc.dictionary(
        mostly(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'prototype')),
        fc.string({ maxLength: 8 }),
        { maxKeys: 4 },
      ),
      children: fc.array(tie('item'), { maxLength: 3 }),
      big: mostly(
        fc.maxSafeInteger().map(String),
        fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).map(String),
      ),
      ratio: mostly(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double()),
      blob: fc.uint8Array({ maxLength: 16 }),
      nested: fc.dictionary(fc.constantFrom('a', 'constructor', 'prototype'), tie('item'), {
        maxKeys: 2,
      }),
    },
    { requiredKeys: [] },
  ),
}))

/** Usually `common`, one time in five `rare` (hostile values, kept from crowding out the rest). */
function mostly<T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: common, weight: 4 }, { arbitrary: rare, weight: 1 })
}

/** Own `__proto__` keys, which fc.dictionary writes with assignment (so never as own keys). */
function ownKeys(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    const mapped =
      key === 'children'
        ? (v as Array<Record<string, unknown>>).map(ownKeys)
        : key === 'nested'
          ? Object.fromEntries(
              Object.entries(v as Record<string, Record<string, unknown>>).map(([k, m]) => [
                k,
                ownKeys(m),
              ]),
            )
          : v
    Object.defineProperty(out, key, { value: mapped, enumerable: true, writable: true })
  }
  return out
}

/** Encoders for the formats whose valid documents can be built from a JSON value. */
const encoders: Partial<Record<string, (value: unknown) => Buffer>> = {
  json: (v) => Buffer.from(JSON.stringify(v)),
  msgpack: (v) => Buffer.from(encodeMsgpack(v)),
  yaml: (v) => Buffer.from(dumpYaml(v)),
  urlencoded: (v) => Buffer.from(stringifyForm(typeof v === 'object' ? v : { v })),
  text: (v) => Buffer.from(JSON.stringify(v)),
  raw: (v) => Buffer.from(JSON.stringify(v)),
}

/** A byte-level mutation of a valid document. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.nat(8) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.nat(8) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never

export function mutate(bytes: Buffer, m: Mutation): Buffer {
  if (bytes.length === 0) return bytes
  const at = m.at % bytes.length
  switch (m.kind) {
    case 'flip': {
      const copy = Buffer.from(bytes)
      copy[at] = (copy[at] as number) ^ (1 << m.bit)
      return copy
    }
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([m.byte]), bytes.subarray(at)])
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)])
    case 'repeat':
      return Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)])
    case 'truncate':
      return bytes.subarray(0, at)
  }
}

// JSON text built from hostile fragments: forbidden keys in every spelling, shadowing keys,
// lone surrogates, numbers at the edges, deep and wide nesting.
const hostileKey = fc.constantFrom(
  '__proto__',
  '\\u005f_proto__',
  '\\u005F\\u005Fproto\\u005f\\u005f',
  'constructor',
  '\\u0063onstructor',
  'prototype',
  'pro\\u0074otype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'a',
  'b',
  '\\ud800',
  'x'.repeat(30),
)
const hostileScalar = fc.constantFrom(
  '1e400',
  '-1e400',
  '1e308',
  '-0',
  '9007199254740993',
  `1${'0'.repeat(320)}`,
  '5e-324',
  '1e-400',
  'null',
  'true',
  '"\\ud83d\\ude00"',
  '"\\udc00"',
  `"${'y'.repeat(30)}"`,
  '""',
  '0',
)
const { hostileJson } = fc.letrec<{ hostileJson: string }>((tie) => ({
  hostileJson: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileScalar,
    fc.array(tie('hostileJson'), { maxLength: 10 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(hostileKey, tie('hostileJson')), { maxLength: 10 })
      .map((members) => `{${members.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
    fc.nat(12).map((n) => `${'['.repeat(n)}0${']'.repeat(n)}`),
  ),
}))

// JavaScript values a decoder might build: everything JSON has, and much it has not.
const hostileKeyName = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'a',
  '\udc00',
)
const { hostileValue } = fc.letrec<{ hostileValue: unknown }>((tie) => ({
  hostileValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      undefined,
      10n,
      Symbol('s'),
      () => 1,
      new Date(0),
      new Map([['a', 1]]),
      /re/,
      new Uint8Array([1]),
      '\ud800',
      'z'.repeat(30),
    ),
    fc.array(tie('hostileValue'), { maxLength: 10 }),
    fc
      .array(fc.tuple(fc.oneof(hostileKeyName, fc.string()), tie('hostileValue')), {
        maxLength: 10,
      })
      .chain((members) => fc.constantFrom(...objectShapes(members))),
  ),
}))

/** The same members as a plain object, a null-prototype object, a class instance, and with
 * constructor holding a prototype. Own properties always (defineProperty, as JSON.parse). */
function objectShapes(members: Array<[string, unknown]>): object[] {
  const fill = (target: object) => {
    for (const [key, value] of members) {
      Object.defineProperty(target, key, { value, enumerable: true, configurable: true })
    }
    return target
  }
  class Thing {}
  return [
    fill({}),
    fill(Object.create(null)),
    fill(new Thing()),
    fill({ constructor: { prototype: {} } }),
  ]
}

/** Every property, by name. Decoder properties exist for each format `formats` has. */
export function properties(): FuzzProperty[] {
  const list: FuzzProperty[] = []
  for (const format of Object.values(formats) as Format[]) {
    if (format.name === 'protobuf') {
      list.push(...protobufProperties())
      continue
    }
    // raw has one right answer: the base64 of the bytes, whatever their length (its one
    // string is the whole body in another spelling, bounded by `limit`, not maxStringLength).
    const exact =
      format.name === 'raw'
        ? (bytes: Buffer) => (value: unknown) => value === bytes.toString('base64')
        : () => undefined
    list.push({
      name: `${format.name}: random bytes`,
      build: (tally) =>
        fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) =>
          checkDecode(
            () => format.decode(Buffer.from(bytes), context),
            tally,
            fuzzLimits,
            exact(Buffer.from(bytes)),
          ),
        ),
    })
    const encoder = encoders[format.name]
    if (encoder) {
      list.push({
        name: `${format.name}: mutated valid documents`,
        build: (tally) =>
          fc.property(
            fc.jsonValue({ maxDepth: 4 }),
            fc.array(mutation, { maxLength: 4 }),
            (value, mutations) => {
              const bytes = mutations.reduce(mutate, encoder(value))
              checkDecode(() => format.decode(bytes, context), tally, fuzzLimits, exact(bytes))
            },
          ),
      })
    }
  }
  if (Object.hasOwn(formats, 'json')) {
    list.push(
      {
        name: 'json: generated hostile structures',
        build: (tally) =>
          fc.property(hostileJson, (text) =>
            checkDecode(() => formats.json.decode(Buffer.from(text), context), tally),
          ),
      },
      {
        name: 'json: the one-pass check never passes what the guard would refuse',
        build: (tally) =>
          fc.property(fc.oneof(hostileJson, fc.json()), (text) => {
            let value: unknown
            try {
              value = JSON.parse(text)
            } catch {
              count(tally, 'not json')
              return
            }
            if (!withinLimits(value, fuzzLimits, maySurrogate(text))) {
              count(tally, 'left to the guard')
              return
            }
            count(tally, 'proved in one pass')
            guardValue(value, fuzzLimits)
          }),
      },
    )
  }
  list.push({
    name: 'guard: hostile values against the oracle',
    build: (tally) => fc.property(hostileValue, (value) => checkGuard(value, tally)),
  })
  return list
}

/** protobuf: random bytes for each fixture message type, and mutated encoded Items. */
function protobufProperties(): FuzzProperty[] {
  const list: FuzzProperty[] = protoMessages.map((name) => ({
    name: `protobuf (${name}): random bytes`,
    build: (tally: Tally) => {
      const { format } = protobufFor(name)
      return fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) =>
        checkDecode(() => format.decode(Buffer.from(bytes), context), tally),
      )
    },
  }))
  list.push({
    name: `protobuf (${ATTACKS_MESSAGE}): mutated valid documents`,
    build: (tally) => {
      const { format, type } = protobufFor(ATTACKS_MESSAGE)
      return fc.property(item, fc.array(mutation, { maxLength: 4 }), (value, mutations) => {
        const encoded = Buffer.from(type.encode(type.fromObject(ownKeys(value))).finish())
        const bytes = mutations.reduce(mutate, encoded)
        checkDecode(() => format.decode(bytes, context), tally)
      })
    },
  })
  return list
}

const builtins: object[] = [
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
  Number.prototype,
  Boolean.prototype,
  Object,
]

function prototypeSnapshot(): string {
  return builtins.map((target) => Reflect.ownKeys(target).map(String).sort().join()).join('|')
}

function expectPrototypes(before: string): void {
  if (prototypeSnapshot() !== before) throw new Error('a built-in prototype changed')
}
