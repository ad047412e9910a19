import { bodyError } from '../errors.js'
import { guardValue, prototypeClean, type StructureLimits } from '../core/guard.js'
import { decodeUtf8 } from '../core/text.js'
import { decimalInteger, duplicateKey } from './datamodel.js'
import type { DuplicateKeys, LargeIntegers } from './types.js'

/**
 * JSON: strict UTF-8 text, JSON.parse, then one walk over the parsed value that proves
 * everything the guard would check (`checkJson`). JSON.parse cannot set a prototype (it
 * defines `__proto__` as an own key) and parses nesting without recursion, so the walk's job
 * is keys, limits, finite numbers and well-formed strings.
 */
export function decodeJson(
  bytes: Buffer,
  limits: StructureLimits,
  largeIntegers: LargeIntegers = 'refuse',
  duplicateKeys: DuplicateKeys = 'last',
): unknown {
  const text = decodeUtf8(bytes)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    // Never pass JSON.parse's message on: it quotes the input.
    throw bodyError('entity.parse.failed', 'The body is not valid JSON.', { cause })
  }
  bigNumber = false
  membersSeen = 0
  const proved = provedFrom(text, value, limits)
  if (!proved) {
    guardValue(value, limits)
    bigNumber = true // the guard does not look: let the text decide
  }
  // JSON.parse keeps the last of two equal keys: the text then names more members than the
  // value holds. The walk above counted the value's; the guard's path counts them again.
  if (duplicateKeys === 'refuse' && namesRepeat(text, proved ? membersSeen : keyCount(value))) {
    throw duplicateKey(limits.route)
  }
  // Only a body with a number of 2^53 or more can hold an integer literal a double rounds.
  if (bigNumber && inexactIntegers(text, largeIntegers)) {
    // largeIntegers: 'string': such integers arrive as their decimal text.
    return guardValue(JSON.parse(quoteInexactIntegers(text)), limits)
  }
  return value
}

/**
 * Integer literals (no fraction, no exponent) beyond ±(2^53 − 1) in JSON text, outside
 * strings: with 'refuse', one a double cannot hold exactly (`9007199254740993`, never
 * `9007199254740992`, `1e20` or `1.5`) is refused as MessagePack's and YAML's are; with
 * 'string' the answer is true for any, and the caller quotes them. Runs only when the parsed value holds a number of
 * 2^53 or more, so ordinary bodies never pay for it.
 */
function inexactIntegers(text: string, mode: LargeIntegers): boolean {
  let found = false
  forEachInexactInteger(
    text,
    (literal) => {
      // 'refuse': 400 entity.type.unmapped, as MessagePack's and YAML's are.
      if (mode === 'refuse') decimalInteger(literal, 'refuse')
      found = true
    },
    mode,
  )
  return found
}

function quoteInexactIntegers(text: string): string {
  let out = ''
  let from = 0
  forEachInexactInteger(
    text,
    (_literal, start, end) => {
      out += `${text.slice(from, start)}"${text.slice(start, end)}"`
      from = end
    },
    'string',
  )
  return out + text.slice(from)
}

/**
 * Calls `found` for each integer literal outside strings beyond ±(2^53 − 1) that the mode
 * changes: with 'refuse' those a double does not hold exactly, with 'string' all of them.
 */
function forEachInexactInteger(
  text: string,
  found: (literal: string, start: number, end: number) => void,
  mode: LargeIntegers,
): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // Skip a string: to the next quote not escaped.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 0x5c) i++
        else if (d === 0x22) break
      }
      continue
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) continue
    const start = i
    if (c === 0x2d) i++
    while (i < text.length && isDigit(text.charCodeAt(i))) i++
    let integer = true
    while (i < text.length && isNumberPart(text.charCodeAt(i))) {
      integer = false
      i++
    }
    const end = i
    i-- // the loop's i++ moves past the number
    if (!integer || end - start < 16) continue
    const literal = text.slice(start, end)
    const value = BigInt(literal)
    if (value <= MAX_SAFE && value >= -MAX_SAFE) continue
    // 'refuse' keeps the integers decimalInteger maps to a number; 'string' makes all text.
    if (mode === 'refuse' && !throws(() => decimalInteger(literal, 'refuse'))) continue
    found(literal, start, end)
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

function throws(run: () => unknown): boolean {
  try {
    run()
    return false
  } catch {
    return true
  }
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39
/** `.`, digits, `e`/`E`, `+`, `-` after the integer part: a fraction or an exponent. */
const isNumberPart = (c: number) =>
  c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d || isDigit(c)

/**
 * Hold a value JSON.parse made from `text` to the guard's rules, or throw the guard's own
 * error. One walk over the value decides: nothing in it is read as text, so string contents
 * cannot fool it. Whatever it cannot prove, the full guard (`guardValue`) walks again and
 * refuses with the exact catalogued type; a refusal is rare, so that second walk costs
 * nothing on accepted bodies.
 */
export function checkJson(value: unknown, text: string, limits: StructureLimits): void {
  // Text decoded from another charset than UTF-8 (the body-parser facade's utf-16) may hold a
  // lone surrogate as it is, not only escaped: then every string is looked at.
  const surrogates = maySurrogate(text) || !isWellFormed(text)
  if (!withinLimits(value, limits, surrogates, text.length)) guardValue(value, limits)
}

/** The one-pass proof for a value JSON.parse made from `text`, told what the text rules out. */
function provedFrom(text: string, value: unknown, limits: StructureLimits): boolean {
  return withinLimits(value, limits, maySurrogate(text), text.length)
}

/**
 * True when the text may hold a lone surrogate once parsed. The text is valid UTF-8, which
 * has no surrogates, so one can only come from a `\uD800`-`\uDFFF` escape that is not half of
 * an escaped pair (`\uD83D\uDE00`, as JSON writers spell an emoji). Without such an escape,
 * no string needs the well-formedness check.
 */
export function maySurrogate(text: string): boolean {
  // One native indexOf cursor over the `\u` escapes: a text without any (most) costs one
  // scan, and the `\u00e9` escapes JSON writers use for other non-ASCII text one look each.
  // Each look is a builtin call (about 15 ns); where such escapes are dense (text in another
  // script, escaped by Python's json.dumps or Gson), one regex pass over the rest of the
  // text, which stops only at surrogate escapes, is cheaper (about 0.2 ns a character).
  let plain = 0
  for (let i = text.indexOf('\\u'); i !== -1; i = text.indexOf('\\u', i + 2)) {
    if (isSurrogateHex(text, i + 2)) {
      if (lonePair(text, i)) return true
      i += 10 // the pair, read whole: the next look starts after it
    } else if (++plain % DENSE_EVERY === 0 && i < plain * DENSE_SPACING) {
      return surrogateEscapes(text, i + 2)
    }
  }
  return false
}

// Every DENSE_EVERY plain escapes, the cursor hands the rest of the text to the regex if
// the escapes so far are closer together on average than DENSE_SPACING characters (the
// break-even is about 75). Measured on 30 KB webhook bodies: one escape per 25 characters,
// 19 -> 7 us; one per 106, clustered in the text fields, the cursor stays (5 us).
const DENSE_EVERY = 32
const DENSE_SPACING = 64
// `\u` then `d8`-`df` (either case): the start of a surrogate escape, nothing else.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/g

/** maySurrogate's answer for the text from `from` on, found by a regex. */
function surrogateEscapes(text: string, from: number): boolean {
  const escape = SURROGATE_ESCAPE
  escape.lastIndex = from
  while (escape.test(text)) {
    const i = escape.lastIndex - 4
    if (lonePair(text, i)) return true
    escape.lastIndex = i + 12 // after the pair
  }
  return false
}

/**
 * For the `\u` at `i`, followed by a surrogate's hex: true unless it is the high half of an
 * escaped pair. Checks, in order: it is an escape at all (an escaped backslash, then
 * "ud800", is no surrogate, but a pair cannot be read from there, so the check must run); a
 * low half with no high half before it; a high half with no low half after it.
 */
function lonePair(text: string, i: number): boolean {
  return (
    !startsEscape(text, i) ||
    isLowSurrogateHex(text, i + 2) ||
    text.charCodeAt(i + 6) !== 0x5c ||
    text.charCodeAt(i + 7) !== 0x75 ||
    !isLowSurrogateHex(text, i + 8)
  )
}

/** `d8`-`df` at `at` (either case): a surrogate's first two hex digits. */
function isSurrogateHex(text: string, at: number): boolean {
  const h = text.charCodeAt(at + 1) | 0x20 // lower-case a hex letter
  return (
    (text.charCodeAt(at) | 0x20) === 0x64 && ((h >= 0x38 && h <= 0x39) || (h >= 0x61 && h <= 0x66))
  )
}

/** `dc`-`df` at `at`: the low half of a pair. */
function isLowSurrogateHex(text: string, at: number): boolean {
  const h = text.charCodeAt(at + 1) | 0x20
  return (text.charCodeAt(at) | 0x20) === 0x64 && h >= 0x63 && h <= 0x66
}

/** True when the backslash at `i` starts an escape: an even run of backslashes precedes it. */
function startsEscape(text: string, i: number): boolean {
  let run = 0
  while (i - run - 1 >= 0 && text.charCodeAt(i - run - 1) === 0x5c) run++
  return run % 2 === 0
}

// Deeper limits than this are left to the guard's iterative walk: `withinLimits` recurses.
const RECURSION_MAX = 1000

// The walk's running budget of values, reset per call; the walk is synchronous.
let nodesLeft = 0
let wellFormed = false
// False when the text is no longer than `stringLength`: no string or key in it can be longer.
let longStrings = true
// Set by the walk when it meets a number of magnitude 2^53 or more (decodeJson reads it).
let bigNumber = false
// The keys of every object the walk went through (decodeJson reads it for duplicateKeys).
let membersSeen = 0

/**
 * True when valid JSON text spells more member names than the parsed value holds `keys`.
 * Each name is followed by a colon, so the colons are at least the names: when they are
 * exactly the keys (no string holds a colon, the common case), no name repeats, found by
 * the native indexOf alone. Otherwise the names are counted.
 */
function namesRepeat(text: string, keys: number): boolean {
  let colons = 0
  for (let at = text.indexOf(':'); at !== -1; at = text.indexOf(':', at + 1)) colons++
  return colons !== keys && memberNames(text) !== keys
}

/**
 * How many member names valid JSON text spells: strings followed by a colon. Each string is
 * found with the native indexOf, so the cost is per string, not per character.
 */
export function memberNames(text: string): number {
  let names = 0
  let quote = text.indexOf('"')
  while (quote !== -1) {
    // The closing quote: the next one not escaped (an even run of backslashes before it).
    let end = text.indexOf('"', quote + 1)
    while (!startsEscape(text, end)) end = text.indexOf('"', end + 1)
    let next = end + 1
    while (isJsonSpace(text.charCodeAt(next))) next++
    if (text.charCodeAt(next) === 0x3a) names++
    quote = text.indexOf('"', next)
  }
  return names
}

const isJsonSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/** Own keys of every object in a parsed value, without recursion (any depth the guard allows). */
function keyCount(value: unknown): number {
  let keys = 0
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const item = pending.pop()
    if (typeof item !== 'object' || item === null) continue
    const children = Array.isArray(item) ? item : Object.values(item)
    if (!Array.isArray(item)) keys += children.length
    for (const child of children)
      if (typeof child === 'object' && child !== null) pending.push(child)
  }
  return keys
}

/**
 * True when a value from JSON.parse passes every rule the guard holds JSON.parse output to,
 * counted the guard's way (the top-level value is depth 1 and one node): depth, keys per
 * object, values, string and key lengths, no `__proto__` key and no `constructor` holding an
 * object with its own `prototype`, finite numbers, and (with `surrogates`) well-formed
 * strings. False means "let the guard decide", never "refuse".
 */
export function withinLimits(
  value: unknown,
  limits: StructureLimits,
  surrogates = true,
  textLength = Infinity,
): boolean {
  wellFormed = surrogates
  longStrings = textLength > limits.stringLength
  // A top-level scalar is held to the rules of a value inside a container.
  if (typeof value !== 'object' || value === null) return childFits(value, 0, limits)
  // for-in below also sees inherited enumerable keys; if some other code has added one to
  // Object.prototype, leave the body to the guard, which reads own keys only.
  if (limits.depth > RECURSION_MAX || !prototypeClean()) return false
  nodesLeft = limits.nodes - 1
  return longStrings || wellFormed ? fits(value, 1, limits) : fitsNoStrings(value, 1, limits)
}

// 2^53: from here on, not every integer has a double.
const BIG = 2 ** 53

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
    if (key === '__proto__') return false
    if (longStrings && key.length > limits.stringLength) return false
    if (wellFormed && !isWellFormed(key)) return false
    const child = record[key]
    if (key === 'constructor' && hasOwnPrototype(child)) return false
    if (!childFits(child, depth, limits)) return false
  }
  nodesLeft -= keys
  membersSeen += keys
  return keys <= limits.keys && nodesLeft >= 0
}

// Each `typeof x === '...'` below compiles to a type check; a `switch (typeof x)` would build
// the type's name as a string for every value (a builtin call each).
function childFits(child: unknown, depth: number, limits: StructureLimits): boolean {
  if (typeof child === 'string') {
    if (longStrings && child.length > limits.stringLength) return false
    return !wellFormed || isWellFormed(child)
  }
  // 1e400 parses to Infinity; JSON.parse makes no NaN. Past 2^53 the text decides whether
  // the literal was an integer a double rounds.
  if (typeof child === 'number') return numberFits(child)
  if (typeof child === 'object') return child === null || fits(child, depth + 1, limits)
  return true
}

/**
 * `fits` for the common case, where no string needs a look: the text is no longer than
 * `stringLength` and holds no lone surrogate escape. Strings and booleans are skipped where
 * they are met, and the rest is written out in the loops rather than in `childFits`: on the
 * yardstick's 1 MB body of records this walk takes 320 us where `fits` takes 465 us, and
 * 3.1 us where it takes 3.6 on the 10 KB order. The differential property tests hold both
 * walks to the guard.
 */
function fitsNoStrings(value: object, depth: number, limits: StructureLimits): boolean {
  if (depth > limits.depth) return false
  if (Array.isArray(value)) {
    nodesLeft -= value.length
    if (nodesLeft < 0) return false
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i]
      if (typeof child === 'object') {
        if (child !== null && !fitsNoStrings(child, depth + 1, limits)) return false
      } else if (typeof child === 'number' && !numberFits(child)) return false
    }
    return true
  }
  const record = value as Record<string, unknown>
  let keys = 0
  for (const key in record) {
    keys++
    if (key === '__proto__') return false
    const child = record[key]
    if (typeof child === 'object') {
      if (child !== null) {
        if (key === 'constructor' && Object.hasOwn(child, 'prototype')) return false
        if (!fitsNoStrings(child, depth + 1, limits)) return false
      }
    } else if (typeof child === 'number' && !numberFits(child)) return false
  }
  nodesLeft -= keys
  membersSeen += keys
  return keys <= limits.keys && nodesLeft >= 0
}

/** A number JSON.parse made is finite; past 2^53, `bigNumber` lets the text decide. */
function numberFits(child: number): boolean {
  if (child < BIG && child > -BIG) return true
  bigNumber = true
  return child !== Infinity && child !== -Infinity
}

function hasOwnPrototype(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype')
}

// String.prototype.isWellFormed (ES2024; Node 20) is missing from the ES2023 lib.
function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed()
}
