import { isUtf8 } from 'node:buffer'
import qs from 'qs'
import { bodyError, settingNote } from '../errors.js'
import { guardValue, type StructureLimits } from '../core/guard.js'
import { decodeUtf8 } from '../core/text.js'

/** How a form is parsed: qs's knobs that safebody and the body-parser facade set. */
export interface FormSettings {
  /** Most `[...]` (or `.`) levels in a key; deeper keys throw a RangeError (strictDepth). */
  readonly depth: number
  /** Most elements, and highest index + 1, of one array. */
  readonly arrayLimit: number
  /** Throw a RangeError when `arrayLimit` is passed, instead of turning the array into an object. */
  readonly strictArrays: boolean
  readonly charset: 'utf-8' | 'iso-8859-1'
  readonly charsetSentinel?: boolean
  readonly interpretNumericEntities?: boolean
  /**
   * Refuse percent-escapes that decode to invalid UTF-8 (400 `entity.utf8.invalid`). qs (and
   * body-parser) leave such a field undecoded, so `%C0%A2` and `%25C0%25A2` arrive as the
   * same string; safebody's own format refuses it, the body-parser facade keeps qs's way.
   */
  readonly strictUtf8?: boolean
}

/**
 * Parse form text with qs, refusing prototype keys with 400 `entity.forbidden.key`.
 *
 * qs drops `__proto__` segments silently (even with `allowPrototypes`), so the value it
 * returns cannot show that the client sent one: the keys are checked as qs decodes them,
 * through its `decoder` hook, which sees every key after percent-decoding (`%5F%5Fproto%5F%5F`)
 * and after `%5B`/`%5D` became brackets, before qs splits it into segments.
 */
export function parseForm(text: string, settings: FormSettings): Record<string, unknown> {
  return qs.parse(text, {
    // Own keys like `toString` are kept as data (never set on a prototype), as body-parser
    // does; `__proto__` and `constructor.prototype` never get this far.
    allowPrototypes: true,
    depth: settings.depth,
    strictDepth: true,
    arrayLimit: settings.arrayLimit,
    throwOnLimitExceeded: settings.strictArrays,
    parameterLimit: Number.POSITIVE_INFINITY,
    charset: settings.charset,
    charsetSentinel: settings.charsetSentinel,
    interpretNumericEntities: settings.interpretNumericEntities,
    decoder: settings.strictUtf8 === true ? strictDecoder : checkedDecoder,
  })
}

function checkedDecoder(
  str: string,
  defaultDecoder: qs.defaultDecoder,
  charset: string,
  kind: 'key' | 'value',
): string {
  const decoded = defaultDecoder(str, defaultDecoder, charset)
  if (kind === 'key' && forbiddenFormKey(decoded)) {
    throw bodyError(
      'entity.forbidden.key',
      'A form key names __proto__ or constructor.prototype, which is not allowed in a body.',
    )
  }
  return decoded
}

function strictDecoder(
  str: string,
  _defaultDecoder: qs.defaultDecoder,
  charset: string,
  kind: 'key' | 'value',
): string {
  return checkedDecoder(str, strictPercentDecode, charset, kind)
}

/**
 * Form percent-decoding as the WHATWG URL standard does it (`+` is a space, `%XX` a byte, a
 * `%` without two hex digits stays as it is), then strict UTF-8: bytes that are not UTF-8
 * are refused, never passed on undecoded or replaced.
 */
function strictPercentDecode(str: string): string {
  if (!str.includes('%')) return str.includes('+') ? str.replace(/\+/g, ' ') : str
  const spaced = str.replace(/\+/g, ' ')
  try {
    return decodeURIComponent(spaced)
  } catch {
    // A stray `%`, or escapes that are not UTF-8: decode byte by byte below.
  }
  const source = Buffer.from(spaced, 'utf8')
  const bytes = Buffer.alloc(source.length)
  let length = 0
  for (let i = 0; i < source.length; i++) {
    const byte = source[i] as number
    const high = byte === 0x25 ? hexValue(source[i + 1]) : -1
    const low = high === -1 ? -1 : hexValue(source[i + 2])
    if (low === -1) bytes[length++] = byte
    else {
      bytes[length++] = high * 16 + low
      i += 2
    }
  }
  const decoded = bytes.subarray(0, length)
  if (!isUtf8(decoded)) {
    throw bodyError('entity.utf8.invalid', 'A percent-encoded form field is not valid UTF-8.')
  }
  return decoded.toString('utf8')
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  const lower = byte | 0x20
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1
}

/**
 * True when a decoded form key has a `__proto__` segment, or a `constructor` segment
 * followed by `prototype`. Segments are split at brackets and at dots whatever `allowDots`
 * says, so the check holds for every qs spelling; a literal key like `a.__proto__` is
 * refused too, which costs no real form anything.
 */
export function forbiddenFormKey(key: string): boolean {
  if (!key.includes('__proto__') && !key.includes('constructor')) return false
  const segments = key.split(/[[\].]/).filter((s) => s !== '')
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] === '__proto__') return true
    if (segments[i] === 'constructor' && segments[i + 1] === 'prototype') return true
  }
  return false
}

/**
 * How many `&`-separated parameters `text` has, counting no further than `limit` + 1: the
 * count qs would see, found before qs does any work.
 */
export function countParameters(text: string, limit: number): number {
  let count = 0
  let index = -1
  do {
    if (++count > limit) return count
    index = text.indexOf('&', index + 1)
  } while (index !== -1)
  return count
}

/**
 * True when a parameter has an empty name and a value (`=2`): qs would drop it. One with
 * neither (`=`, or the empty one of `a=1&&b=2`) carries nothing. Only a parameter that
 * starts with `=` can have no name; qs ends a name at its first `]=` where there is one
 * (`%5D` read as `]`), so `=a]=b` is named `=a]`.
 */
function namelessValue(text: string): boolean {
  if (text.charCodeAt(0) === 0x3d && nameless(text, 0)) return true
  for (let at = text.indexOf('&='); at !== -1; at = text.indexOf('&=', at + 2)) {
    if (nameless(text, at + 1)) return true
  }
  return false
}

/** The parameter at `start`, which begins with `=`, has a value and no name. */
function nameless(text: string, start: number): boolean {
  const end = text.indexOf('&', start)
  const parameter = text.slice(start, end === -1 ? text.length : end)
  return parameter.length > 1 && !BRACKET_EQUALS.test(parameter)
}

const BRACKET_EQUALS = /(?:\]|%5D)=/i

// body-parser's defaults are the ceiling; a route's tighter maxDepth / maxKeys lower them.
const FORM_DEPTH = 32
const FORM_PARAMETERS = 1000

/**
 * application/x-www-form-urlencoded: strict UTF-8, then qs (extended syntax, body-parser's
 * limits), then the guard. Every limit is a 400, never a truncation: more parameters than
 * the limit, a key nested deeper than the depth, an array index past the array limit.
 * Percent-escapes must decode to UTF-8. Values are strings, arrays and objects of strings.
 */
export function decodeUrlencoded(bytes: Buffer, limits: StructureLimits): unknown {
  const text = decodeUtf8(bytes)
  const parameters = Math.min(FORM_PARAMETERS, limits.keys)
  // A key of depth d nests d + 1 objects (the form itself is one).
  const depth = Math.max(0, Math.min(FORM_DEPTH, limits.depth - 1))
  if (text.length === 0) return {}
  // qs drops a parameter with no name, value and all (`=2`, `a=1&=2`).
  if (namelessValue(text)) {
    throw bodyError('entity.parse.failed', 'A form parameter has a value but no name.')
  }
  if (countParameters(text, parameters) > parameters) {
    throw bodyError(
      'entity.too.many.keys',
      `The form has more than ${parameters} parameters (${formLimitNote(limits)}).`,
    )
  }
  let value: Record<string, unknown>
  try {
    value = parseForm(text, {
      depth,
      arrayLimit: parameters,
      strictArrays: true,
      charset: 'utf-8',
      strictUtf8: true,
    })
  } catch (err) {
    throw formRangeError(err, limits)
  }
  guardValue(value, limits)
  return value
}

function formRangeError(err: unknown, limits: StructureLimits): unknown {
  if (!(err instanceof RangeError)) return err
  if (err.message.startsWith('Array limit')) {
    return bodyError(
      'entity.too.many.nodes',
      `An array in the form is longer than the parameter limit or indexed beyond it (${formLimitNote(limits)}).`,
      { cause: err },
    )
  }
  const note =
    limits.depth - 1 <= FORM_DEPTH
      ? settingNote('maxDepth', limits.depth, limits.route)
      : `forms nest at most ${FORM_DEPTH} levels`
  return bodyError('entity.too.deep', `A form key is nested too deeply (${note}).`, { cause: err })
}

/** Which bound decided a form's parameter count: `maxKeys`, or the fixed form limit. */
function formLimitNote(limits: StructureLimits): string {
  return limits.keys <= FORM_PARAMETERS
    ? settingNote('maxKeys', limits.keys, limits.route)
    : `forms take at most ${FORM_PARAMETERS} parameters`
}
