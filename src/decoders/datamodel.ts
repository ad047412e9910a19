import { bodyError, limitError } from '../errors.js'
import type { LargeIntegers, StructureLimits } from './types.js'

/**
 * The mappings several formats share, so that the same thing arrives the same way whatever
 * carried it: bytes as base64 text, instants as ISO 8601 text, and integers either exact
 * numbers or, beyond 2^53, refused or decimal text.
 */

/** A refusal for a value with no place in the data model. `what` never quotes the body. */
export function unmapped(what: string) {
  return bodyError('entity.type.unmapped', `The body holds ${what}, which has no JSON equivalent.`)
}

/**
 * A refusal for a key given twice in one object (`duplicateKeys: 'refuse'`). Which key is not
 * said: it is body content.
 */
export function duplicateKey(route: string | undefined) {
  return limitError(
    'entity.key.duplicate',
    'An object in the body holds the same key twice',
    "'refuse'",
    route,
  )
}

/** Bytes as standard base64 with padding (RFC 4648 §4), as proto3's JSON mapping writes them. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/**
 * A binary value as base64 text, its bytes counted against `maxStringLength` (a value that
 * fits `limit` passes, as a raw body of its size does). A text longer than the limit in
 * characters is added to `long`, for the guard to pass over.
 */
export function binaryText(bytes: Uint8Array, limits: StructureLimits, long: Set<string>): string {
  if (bytes.byteLength > limits.stringLength) throw binaryTooLong(limits)
  const text = base64(bytes)
  if (text.length > limits.stringLength) long.add(text)
  return text
}

/** The refusal for a binary value of more than `maxStringLength` bytes. */
export function binaryTooLong(limits: StructureLimits) {
  return limitError(
    'entity.string.too.long',
    `A binary value is longer than ${limits.stringLength} bytes`,
    limits.stringLength,
    limits.route,
  )
}

/**
 * An integer from a format that carries 64-bit integers, never rounded: a number when a
 * double holds it exactly (every safe integer, and such as 2^60), else a refusal. With
 * `'string'`, every integer beyond ±(2^53 − 1) is decimal text instead, so that 64-bit ids
 * arrive all one way.
 */
export function largeInteger(value: bigint, mode: LargeIntegers | undefined): number | string {
  if (value <= MAX_SAFE && value >= MIN_SAFE) return Number(value)
  if (mode === 'string') return value.toString()
  const n = Number(value)
  // Past the largest double, Number() gives Infinity, which BigInt() cannot take.
  if (Number.isFinite(n) && BigInt(n) === value) return n
  throw bodyError(
    'entity.type.unmapped',
    "The body holds an integer that a number cannot hold exactly (`largeIntegers` is 'refuse'; 'string' hands such integers on as decimal text).",
  )
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * A decimal integer literal (`-?[0-9]+`) by the rule YAML's integers follow: a number when
 * safe; beyond 2^53, with `'refuse'`, a number when a double holds it exactly or the literal
 * is exactly how JavaScript prints that double (JSON.stringify writes 2^60 as
 * `1152921504606847000`), else refused; with `'string'`, decimal text.
 */
export function decimalInteger(literal: string, mode: LargeIntegers): number | string {
  const double = Number(literal)
  if (Number.isSafeInteger(double)) return double
  if (mode !== 'string' && Number.isFinite(double)) {
    const digits = literal.replace(/^-/, '').replace(/^0+(?=[0-9])/, '')
    if (String(Math.abs(double)) === digits) return double
  }
  return largeInteger(BigInt(literal), mode)
}
const MIN_SAFE = -MAX_SAFE
/** The last millisecond a Date holds (ECMA-262, 21.4.1.1). */
const MAX_DATE = 8.64e15

/**
 * An instant as ISO 8601 UTC text: millisecond precision like `Date#toISOString` when that
 * loses nothing, else all nine fractional digits.
 */
export function isoInstant(seconds: number, nanoseconds: number): string {
  const ms = seconds * 1000 + Math.floor(nanoseconds / 1e6)
  const date = new Date(ms)
  // The last instant a Date holds is a whole millisecond: a nanosecond past it is outside.
  if (
    !Number.isSafeInteger(seconds) ||
    Number.isNaN(date.getTime()) ||
    (ms === MAX_DATE && nanoseconds % 1e6 !== 0)
  ) {
    throw unmapped('a timestamp outside the range of ISO 8601 dates')
  }
  const iso = date.toISOString()
  if (nanoseconds % 1e6 === 0) return iso
  return `${iso.slice(0, -4)}${String(nanoseconds).padStart(9, '0')}Z`
}
