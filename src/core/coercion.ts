import { bodyError, clientPointer } from '../errors.js'
import { decimalInteger, unmapped } from '../decoders/datamodel.js'
import type { LargeIntegers } from '../decoders/types.js'
import { guardValue, type StructureLimits } from './guard.js'

/** What ajv may write into a body while it validates: coerced types, inserted defaults. */
export interface Rewrites {
  readonly coerceTypes: boolean
  /** `coerceTypes: 'array'`: a scalar may become an array, the body deeper and larger. */
  readonly coerceArrays: boolean
  readonly useDefaults: boolean
}

/** The body, where ajv writes its coerced top-level value (as its parent data). */
export type RewriteRoot = { value: unknown }

/** Runs `validate` on `root.value` and holds what it wrote to the data model; false if invalid. */
export type RewriteCheck = (root: RewriteRoot, validate: () => boolean) => boolean

/**
 * Wrap a validation so that what ajv writes into the body meets the data model as decoded
 * values do. ajv coerces any string that `+s` turns into a number (`"0x10"` to 16,
 * `" 12 "` to 12, `"1e400"` to Infinity, `"9007199254740993"` rounded); here a coerced
 * number must come from a decimal number literal (JSON's grammar), be finite, and, as an
 * integer literal, be exact (else refused, or decimal text with `largeIntegers: 'string'`).
 * A string that is not a literal is 422, as without coercion; a literal with no exact
 * number is 400 `entity.type.unmapped`, as the same number decoded from a body is. Inserted
 * defaults go through the guard. Nothing here runs unless the app turned coercion or
 * defaults on.
 */
export function checkRewrites(
  rewrites: Rewrites,
  limits: StructureLimits,
  largeIntegers: LargeIntegers,
): RewriteCheck | null {
  if (!rewrites.coerceTypes && !rewrites.useDefaults) return null
  // Defaults add keys and values; arrays made of scalars add depth and values.
  const regard = rewrites.useDefaults || rewrites.coerceArrays
  return (root, validate) => {
    const strings = rewrites.coerceTypes ? stringLeaves(root) : null
    const valid = validate()
    if (!valid) return false
    if (strings !== null) checkCoerced(strings, largeIntegers)
    if (regard) guardValue(root.value, limits)
    return true
  }
}

/** A string where it sat before validation: its container and key, and its own path. */
interface StringLeaf {
  readonly container: Record<string | number, unknown>
  readonly key: string | number
  readonly text: string
  readonly path: string
}

function stringLeaves(root: RewriteRoot): StringLeaf[] {
  const leaves: StringLeaf[] = []
  // The body itself may be a string (or one in an array): its container is the root box.
  const text = onlyString(root.value)
  if (text !== undefined) leaves.push({ container: root, key: 'value', text, path: '' })
  const stack: Array<[unknown, string]> = [[root.value, '']]
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, string]
    if (typeof value !== 'object' || value === null) continue
    const container = value as Record<string | number, unknown>
    const keys: Array<string | number> = Array.isArray(value)
      ? value.map((_, i) => i)
      : Object.keys(value)
    for (const key of keys) {
      const child = container[key]
      const at = pointer(path, key)
      const text = onlyString(child)
      if (text !== undefined) leaves.push({ container, key, text, path: at })
      if (typeof child === 'object' && child !== null) stack.push([child, at])
    }
  }
  return leaves
}

/**
 * A string, or the string a one-element array holds: `coerceTypes: 'array'` takes `["7"]`
 * for the scalar 7, writing the number where the array was and leaving the array as it was.
 */
function onlyString(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0]
  return undefined
}

function checkCoerced(leaves: readonly StringLeaf[], largeIntegers: LargeIntegers): void {
  for (const leaf of leaves) {
    let now = leaf.container[leaf.key]
    let inArray = false
    // coerceTypes: 'array' wraps a scalar in an array, then coerces the element.
    if (Array.isArray(now) && now.length === 1) {
      now = now[0]
      inArray = true
    }
    if (typeof now !== 'number') continue
    const exact = numberFromLiteral(leaf.text, largeIntegers)
    if (exact === undefined) {
      throw notANumber(leaf.path)
    }
    if (typeof exact === 'string') {
      // largeIntegers: 'string' keeps such an integer as text, which the schema did not allow.
      throw notANumber(leaf.path, 'must be an integer a number holds exactly')
    }
    if (inArray) (leaf.container[leaf.key] as unknown[])[0] = exact
    else leaf.container[leaf.key] = exact
  }
}

const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/
const INTEGER = /^-?[0-9]+$/

/**
 * The number a decimal literal stands for, as a decoder would give it: undefined when the
 * text is not a literal, a refusal when it overflows or names an integer a double cannot hold.
 */
export function numberFromLiteral(
  text: string,
  largeIntegers: LargeIntegers,
): number | string | undefined {
  if (!DECIMAL.test(text)) return undefined
  const value = Number(text)
  if (!Number.isFinite(value)) throw unmapped('a number too large for a double')
  if (INTEGER.test(text) && !Number.isSafeInteger(value)) {
    return decimalInteger(text, largeIntegers)
  }
  return value
}

function notANumber(instancePath: string, message = 'must be a decimal number') {
  return bodyError('entity.validation.failed', undefined, {
    errors: [{ instancePath: clientPointer(instancePath), keyword: 'type', message, params: {} }],
  })
}

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`
}
