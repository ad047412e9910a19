import { bodyError } from '../errors.js'
import { guardValue, type StructureLimits } from '../guard.js'
import { decodeUtf8 } from '../text.js'

/**
 * JSON: strict UTF-8 text, JSON.parse, then the guard. JSON.parse cannot set a prototype
 * (it defines `__proto__` as an own key), and V8 parses nesting without recursion, so the
 * guard's job here is keys and limits; it is skipped when the text itself proves that no
 * key or limit can be hit, which is the common case for small bodies.
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
  if (mayBreakGuard(text, limits)) guardValue(value, limits)
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
  // JSON.parse turns a number too large for a double into Infinity, which the data model
  // has no place for; such a literal needs a three-digit exponent or 210 integer digits.
  if (HUGE_EXPONENT.test(text) || hasDigitRun(text, HUGE_DIGITS)) return true
  return countOpenings(text, limits.depth) > limits.depth
}

// 10^309 overflows; with a two-digit exponent (at most 99) that takes 309 - 99 digits.
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
