import { bodyError } from '../errors.js'
import { guardValue, type StructureLimits } from '../guard.js'
import { decodeUtf8 } from '../text.js'

/**
 * JSON: strict UTF-8 text, JSON.parse, then the guard. JSON.parse cannot set a prototype
 * (it defines `__proto__` as an own key), and V8 parses nesting without recursion, so the
 * guard's job here is keys and limits; it is skipped when the text itself proves that no
 * key or limit can be hit, which is the common case for small bodies. Otherwise a lean walk
 * that only counts and looks at key names (`withinLimits`) stands in for the guard; any
 * doubt, and the full guard decides.
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
  if (mayBreakGuard(text, limits) && !withinLimits(value, limits)) guardValue(value, limits)
  return value
}

/**
 * A cheap, conservative test on the raw text: false only when no value parsed from it can
 * hold a forbidden key or exceed a limit. Every bound here over-counts (a bracket or colon
 * inside a string counts too), so a false is a proof; a true just means "walk".
 */
export function mayBreakGuard(text: string, limits: StructureLimits): boolean {
  // Any string, and the number of values, is bounded by the length of the text; an object
  // needs at least four characters a key ("":0 and a comma or brace).
  if (text.length > limits.stringLength || text.length > limits.nodes) return true
  if (text.length > 4 * limits.keys) return true
  // A key spelled with an escape (\u005f_proto__) can only hide behind a backslash-u.
  if (text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')) {
    return true
  }
  return countOpenings(text, limits.depth) > limits.depth
}

/** How many `[` and `{` the text holds, counting no further than `stopAfter` + 1. */
function countOpenings(text: string, stopAfter: number): number {
  let count = 0
  for (let i = text.indexOf('{'); i !== -1 && count <= stopAfter; i = text.indexOf('{', i + 1)) {
    count++
  }
  for (let i = text.indexOf('['); i !== -1 && count <= stopAfter; i = text.indexOf('[', i + 1)) {
    count++
  }
  return count
}

// Deeper limits than this are left to the guard's iterative walk: `withinLimits` recurses.
const RECURSION_MAX = 1000

/**
 * True when a value from JSON.parse keeps every structure limit, counted the guard's way
 * (the top-level value is depth 1 and one node), and holds no key named `__proto__` or
 * `constructor`. JSON.parse output is always in the data model, so that is all the guard
 * would check. About five times cheaper than the guard, and it reads parsed keys, so no
 * scan of the text is needed; false means "let the guard decide", never "refuse".
 */
export function withinLimits(value: unknown, limits: StructureLimits): boolean {
  if (typeof value === 'string') return value.length <= limits.stringLength
  if (typeof value !== 'object' || value === null) return true
  // for-in below also sees inherited enumerable keys; if some other code has added one to
  // Object.prototype, leave the body to the guard, which reads own keys only.
  if (limits.depth > RECURSION_MAX || !prototypeClean()) return false
  const count = { nodes: limits.nodes - 1 }
  return fits(value, 1, limits, count)
}

function fits(
  value: object,
  depth: number,
  limits: StructureLimits,
  count: { nodes: number },
): boolean {
  if (depth > limits.depth) return false
  if (Array.isArray(value)) {
    count.nodes -= value.length
    if (count.nodes < 0) return false
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i]
      if (typeof child === 'object') {
        if (child !== null && !fits(child, depth + 1, limits, count)) return false
      } else if (typeof child === 'string' && child.length > limits.stringLength) return false
    }
    return true
  }
  const record = value as Record<string, unknown>
  let keys = 0
  for (const key in record) {
    keys++
    if (key.length > limits.stringLength || key === '__proto__' || key === 'constructor') {
      return false
    }
    const child = record[key]
    if (typeof child === 'object') {
      if (child !== null && !fits(child, depth + 1, limits, count)) return false
    } else if (typeof child === 'string' && child.length > limits.stringLength) return false
  }
  count.nodes -= keys
  return keys <= limits.keys && count.nodes >= 0
}

function prototypeClean(): boolean {
  for (const _ in Object.prototype) return false
  return true
}
