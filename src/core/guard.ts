import { unmapped } from '../decoders/datamodel.js'
import type { StructureLimits } from '../decoders/types.js'
import { type BodyError, type BodyErrorProps, bodyError, limitError } from '../errors.js'

export type { StructureLimits } from '../decoders/types.js'

/**
 * Maps a decoded value that is outside the data model (a bigint, a byte array, an extension
 * object) to one inside it, or throws a catalogued error. Formats that carry more than JSON
 * pass one to {@link guardValue}.
 */
export type ValueMapper = (value: unknown) => unknown

/**
 * Walk a decoded value and refuse it unless it is in the data model (what JSON.parse could
 * produce: null, booleans, finite numbers, well-formed strings, arrays, plain objects), holds no
 * prototype-pollution key, and stays within `limits`.
 *
 * The walk is iterative, with an explicit stack, so a deep body cannot overflow ours; and it
 * counts every node it reaches, so shared references (YAML aliases) are paid for at their
 * expanded size and a cycle is refused by the node limit rather than followed forever.
 */
export function guardValue(
  root: unknown,
  limits: StructureLimits,
  map?: ValueMapper,
  binary?: BinaryTexts,
): unknown {
  // With a mapper, a value outside the model is replaced where it sits, before it is checked:
  // one walk both maps and guards, and nothing is copied.
  if (map !== undefined && outsideModel(root)) root = map(root)
  const values: unknown[] = [root]
  const depths: number[] = [1]
  let nodes = 0
  while (values.length > 0) {
    const value = values.pop()
    const depth = depths.pop() as number
    if (++nodes > limits.nodes) {
      throw structureError('entity.too.many.nodes', limits)
    }
    // `typeof x === '...'` compiles to a type check; `switch (typeof x)` would build the
    // type's name as a string for every value.
    if (typeof value === 'string') {
      checkString(value, limits, binary)
      continue
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw unmapped('a number that is not finite')
      continue
    }
    if (typeof value === 'boolean') continue
    if (typeof value !== 'object') throw unmapped(`a value of type ${typeof value}`)
    if (value === null) continue
    if (depth > limits.depth) {
      throw structureError('entity.too.deep', limits)
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        let child: unknown = value[i]
        if (map !== undefined && outsideModel(child)) value[i] = child = map(child)
        values.push(child)
        depths.push(depth + 1)
      }
      continue
    }
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) throw unmapped('an object that is not plain')
    const keys = Object.keys(value)
    if (keys.length > limits.keys) {
      throw structureError('entity.too.many.keys', limits)
    }
    const record = value as Record<string, unknown>
    for (const key of keys) {
      let child = record[key]
      if (map !== undefined && outsideModel(child)) record[key] = child = map(child)
      if (forbiddenKey(key, child)) {
        throw bodyError('entity.forbidden.key', `The key "${key}" is not allowed in a body.`)
      }
      checkString(key, limits)
      values.push(child)
      depths.push(depth + 1)
    }
    // Own symbol keys cannot come from any wire format; if a decoder ever made one, refuse.
    if (Object.getOwnPropertySymbols(value).length > 0) throw unmapped('a symbol key')
  }
  return root
}

/**
 * The base64 texts a decoder made from binary values (MessagePack bin, protobuf bytes, YAML
 * `!!binary`) that are longer than `maxStringLength` characters: their bytes were counted
 * against it instead, so the guard does not count their characters again. Only texts over
 * the limit are listed, so the set stays empty for nearly every body.
 */
export type BinaryTexts = ReadonlySet<string>

/** True for a value a mapper must see: a bigint, or an object that is neither array nor plain. */
function outsideModel(value: unknown): boolean {
  if (typeof value === 'bigint') return true
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto !== Object.prototype && proto !== null
}

/**
 * True for the keys that rewrite prototypes when a body is merged or assigned: `__proto__`
 * itself, and `constructor` holding an object with its own `prototype`.
 */
export function forbiddenKey(key: string, value: unknown): boolean {
  if (key === '__proto__') return true
  return (
    key === 'constructor' &&
    typeof value === 'object' &&
    value !== null &&
    Object.hasOwn(value, 'prototype')
  )
}

/** The refusals a structure limit decides. */
export type StructureErrorType =
  'entity.too.deep' | 'entity.too.many.keys' | 'entity.too.many.nodes' | 'entity.string.too.long'

// What each structure limit counts, and the wording of its refusal (with its value).
const structureLimit: Record<
  StructureErrorType,
  {
    readonly key: 'depth' | 'keys' | 'nodes' | 'stringLength'
    readonly what: (n: number) => string
  }
> = {
  'entity.too.deep': { key: 'depth', what: (n) => `The body is nested more than ${n} levels deep` },
  'entity.too.many.keys': { key: 'keys', what: (n) => `An object holds more than ${n} keys` },
  'entity.too.many.nodes': { key: 'nodes', what: (n) => `The body holds more than ${n} values` },
  'entity.string.too.long': {
    key: 'stringLength',
    what: (n) => `A string is longer than ${n} characters`,
  },
}

/**
 * The refusal for a broken structure limit, worded once for the guard and every decoder
 * that finds the break first: what was exceeded, and the setting, value and route.
 */
export function structureError(
  type: StructureErrorType,
  limits: StructureLimits,
  props?: BodyErrorProps,
): BodyError {
  const { key, what } = structureLimit[type]
  const value = limits[key]
  return limitError(type, what(value), value, limits.route, props)
}

function checkString(value: string, limits: StructureLimits, binary?: BinaryTexts): void {
  if (value.length > limits.stringLength && binary?.has(value) !== true) {
    throw structureError('entity.string.too.long', limits)
  }
  // A lone surrogate (JSON's "\ud800", a decoder reading CESU-8) is not Unicode text: it has
  // no UTF-8 form, so it cannot cross formats or reach storage intact, and
  // encodeURIComponent throws on it. Refused like invalid UTF-8.
  if (!(value as WellFormedString).isWellFormed()) {
    throw bodyError('entity.utf8.invalid', 'A string holds an unpaired UTF-16 surrogate.')
  }
}

// String.prototype.isWellFormed (ES2024; Node 20) is missing from the ES2023 lib.
type WellFormedString = string & { isWellFormed(): boolean }

/**
 * True while Object.prototype has no enumerable property, that is, while nothing in the
 * process has polluted it by assignment. Shortcuts that read inherited keys (for-in, ajv
 * without ownProperties) are exact only then; each checks this first.
 */
export function prototypeClean(): boolean {
  for (const _ in Object.prototype) return false
  return true
}
