import { bodyError } from '../errors.js'
import { guardValue, prototypeClean, type StructureLimits } from '../core/guard.js'
import { decodeUtf8 } from '../core/text.js'

/**
 * JSON: strict UTF-8 text, JSON.parse, then one walk over the parsed value that proves
 * everything the guard would check (`checkJson`). JSON.parse cannot set a prototype (it
 * defines `__proto__` as an own key) and parses nesting without recursion, so the walk's job
 * is keys, limits, finite numbers and well-formed strings.
 */
export function decodeJson(bytes: Buffer, limits: StructureLimits): unknown {
  const text = decodeUtf8(bytes)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    // Never pass JSON.parse's message on: it quotes the input.
    throw bodyError('entity.parse.failed', 'The body is not valid JSON.', { cause })
  }
  checkJson(value, text, limits)
  return value
}

/**
 * Hold a value JSON.parse made from `text` to the guard's rules, or throw the guard's own
 * error. One walk over the value decides: nothing in it is read as text, so string contents
 * cannot fool it. Whatever it cannot prove, the full guard (`guardValue`) walks again and
 * refuses with the exact catalogued type; a refusal is rare, so that second walk costs
 * nothing on accepted bodies.
 */
export function checkJson(value: unknown, text: string, limits: StructureLimits): void {
  if (!withinLimits(value, limits, maySurrogate(text))) guardValue(value, limits)
}

/**
 * True when the text may hold a lone surrogate once parsed. The text is valid UTF-8, which
 * has no surrogates, so one can only come from a `\uD800`-`\uDFFF` escape; without one,
 * no string needs the well-formedness check.
 */
export function maySurrogate(text: string): boolean {
  for (let i = text.indexOf('\\u'); i !== -1; i = text.indexOf('\\u', i + 2)) {
    const c = text.charCodeAt(i + 2) | 0x20 // lower-case a hex letter
    const d = text.charCodeAt(i + 3) | 0x20
    // 'd' then '8'..'9' or 'a'..'f': D800-DFFF.
    if (c === 0x64 && ((d >= 0x38 && d <= 0x39) || (d >= 0x61 && d <= 0x66))) return true
  }
  return false
}

// Deeper limits than this are left to the guard's iterative walk: `withinLimits` recurses.
const RECURSION_MAX = 1000

// The walk's running budget of values, reset per call; the walk is synchronous.
let nodesLeft = 0
let wellFormed = false

/**
 * True when a value from JSON.parse passes every rule the guard holds JSON.parse output to,
 * counted the guard's way (the top-level value is depth 1 and one node): depth, keys per
 * object, values, string and key lengths, no `__proto__` key and no `constructor` holding an
 * object with its own `prototype`, finite numbers, and (with `surrogates`) well-formed
 * strings. False means "let the guard decide", never "refuse".
 */
export function withinLimits(value: unknown, limits: StructureLimits, surrogates = true): boolean {
  if (typeof value !== 'object' || value === null) return scalarFits(value, limits, surrogates)
  // for-in below also sees inherited enumerable keys; if some other code has added one to
  // Object.prototype, leave the body to the guard, which reads own keys only.
  if (limits.depth > RECURSION_MAX || !prototypeClean()) return false
  nodesLeft = limits.nodes - 1
  wellFormed = surrogates
  return fits(value, 1, limits)
}

function scalarFits(value: unknown, limits: StructureLimits, surrogates: boolean): boolean {
  if (typeof value === 'string') {
    return value.length <= limits.stringLength && (!surrogates || isWellFormed(value))
  }
  return typeof value !== 'number' || (value !== Infinity && value !== -Infinity)
}

function fits(value: object, depth: number, limits: StructureLimits): boolean {
  if (depth > limits.depth) return false
  if (Array.isArray(value)) {
    nodesLeft -= value.length
    if (nodesLeft < 0) return false
    for (let i = 0; i < value.length; i++) {
      if (!childFits(value[i], depth, limits)) return false
    }
    return true
  }
  const record = value as Record<string, unknown>
  let keys = 0
  for (const key in record) {
    keys++
    if (key.length > limits.stringLength || key === '__proto__') return false
    if (wellFormed && !isWellFormed(key)) return false
    const child = record[key]
    if (key === 'constructor' && hasOwnPrototype(child)) return false
    if (!childFits(child, depth, limits)) return false
  }
  nodesLeft -= keys
  return keys <= limits.keys && nodesLeft >= 0
}

function childFits(child: unknown, depth: number, limits: StructureLimits): boolean {
  switch (typeof child) {
    case 'object':
      return child === null || fits(child, depth + 1, limits)
    case 'string':
      return child.length <= limits.stringLength && (!wellFormed || isWellFormed(child))
    case 'number':
      // 1e400 parses to Infinity; JSON.parse makes no NaN.
      return child !== Infinity && child !== -Infinity
    default:
      return true
  }
}

function hasOwnPrototype(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')
}

// String.prototype.isWellFormed (ES2024; Node 20) is missing from the ES2023 lib.
function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed()
}
