import { bodyError } from '../errors.js'
import { guardValue, prototypeClean, type StructureLimits } from '../core/guard.js'
import { decodeUtf8 } from '../core/text.js'

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
  if (mustGuard(text)) guardValue(value, limits)
  else if (mayBreakLimits(text, limits) && !withinLimits(value, limits)) guardValue(value, limits)
  return value
}

/** True when some walk is needed: the guard (`mustGuard`) or at least `withinLimits`. */
export function mayBreakGuard(text: string, limits: StructureLimits): boolean {
  return mustGuard(text) || mayBreakLimits(text, limits)
}

/**
 * Text that `withinLimits` cannot judge, so the full guard walks it: a `\u` escape can spell
 * a forbidden key or a lone surrogate, and a huge literal parses to Infinity. Both are rare
 * in the wild, and then the guard's whole data-model check runs.
 */
function mustGuard(text: string): boolean {
  return text.includes('\\u') || HUGE_EXPONENT.test(text) || hasDigitRun(text, HUGE_DIGITS)
}

/**
 * A cheap, conservative test on the raw text (after `mustGuard`): false only when no value
 * parsed from it can hold a forbidden key or exceed a limit. Every bound here over-counts
 * (a bracket or colon inside a string counts too), so a false is a proof; a true just
 * means "walk".
 */
function mayBreakLimits(text: string, limits: StructureLimits): boolean {
  // Any string, and the number of values, is bounded by the length of the text; an object
  // needs at least four characters a key ("":0 and a comma or brace).
  if (text.length > limits.stringLength || text.length > limits.nodes) return true
  if (text.length > 4 * limits.keys) return true
  if (text.includes('__proto__') || text.includes('constructor')) return true
  return countOpenings(text, limits.depth) > limits.depth
}

// JSON.parse turns a number too large for a double into Infinity, which the data model has
// no place for; such a literal needs a three-digit exponent or 210 integer digits
// (10^309 overflows; with a two-digit exponent, at most 99, that takes 309 - 99 digits).
const HUGE_EXPONENT = /[eE][+-]?\d{3}/
const HUGE_DIGITS = 210

/**
 * True when the text holds `run` consecutive ASCII digits. Any such run covers one index in
 * every `run`-th, so only those are looked at, and the run is measured around a hit.
 */
function hasDigitRun(text: string, run: number): boolean {
  for (let i = run - 1; i < text.length; i += run) {
    if (!isDigit(text, i)) continue
    let start = i
    let end = i
    while (start > 0 && isDigit(text, start - 1)) start--
    while (end - start + 1 < run && isDigit(text, end + 1)) end++
    if (end - start + 1 >= run) return true
  }
  return false
}

function isDigit(text: string, i: number): boolean {
  const c = text.charCodeAt(i)
  return c >= 48 && c <= 57
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
