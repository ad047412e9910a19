import {
  binaryTag,
  CORE_SCHEMA,
  defineScalarTag,
  floatCoreTag,
  intCoreTag,
  type LoadOptions,
  loadAll,
  mergeTag,
  NOT_RESOLVED,
  type Schema,
  timestampTag,
  YAMLException,
} from 'js-yaml'
import { bodyError, isBodyError } from '../errors.js'
import { type DecodeContext, type Format, type LargeIntegers } from './types.js'
import { perRouteFormat } from './per-route.js'
import { guardValue, type StructureLimits, structureError } from '../core/guard.js'
import { decodeUtf8 } from '../core/text.js'
import { expansionLimits } from '../core/limits.js'
import { binaryText, duplicateKey, largeInteger, unmapped } from './datamodel.js'
import { unshareAliases } from './yaml-aliases.js'

/**
 * YAML 1.2, with js-yaml 5, on the core schema: null, booleans, integers, floats, strings,
 * sequences and mappings. Beyond it, only what maps to the data model is accepted:
 *
 * - merge keys (`<<`), capped by js-yaml's maxTotalMergeKeys and then guarded like any key;
 * - `!!binary` as base64 text and `!!timestamp` as ISO 8601 text, as MessagePack's bin and
 *   timestamp arrive. A plain `2024-01-01` is a string already (the core schema has no
 *   timestamps) and arrives as written.
 *
 * Every other tag (`!!set`, `!!omap`, `!!pairs`, `!!js/function`, `!!python/object`, local
 * `!tags`) is unknown to the schema, so js-yaml refuses it; it is never ignored. Aliases
 * arrive as independent copies of the anchored value, made and counted against the node
 * limit as the walk meets them, so an alias bomb stops at the limit and a self-referencing
 * alias hits the depth limit. One document only.
 */
export const yamlFormat: Format = perRouteFormat(
  {
    name: 'yaml',
    mediaTypes: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'],
    suffix: '+yaml',
    textual: true,
  },
  createYamlDecoder,
)

/** Build a route's YAML decoder: bytes to a guarded value in the data model. */
function createYamlDecoder(context: DecodeContext): (bytes: Buffer) => unknown {
  const { limits } = context
  // Base64 texts of `!!binary` values longer than the string limit, per decode.
  const long = new Set<string>()
  const options: LoadOptions = {
    schema: schemaFor(context.largeIntegers ?? 'refuse', limits, long),
    // js-yaml's maxDepth counts every node, the document's and each scalar's too: `depth`
    // levels of collections with a scalar inside take depth + 2. It only stops a deep body
    // before anything is built; the guard's walk holds collections to exactly `depth`.
    maxDepth: limits.depth + 2,
    // Each alias yields at least one value, each merged key one more: past the node limit
    // the guard would refuse anyway, so stop counting there.
    maxAliases: limits.nodes,
    maxTotalMergeKeys: limits.nodes,
    json: false,
  }
  return (bytes) => {
    const text = decodeUtf8(bytes)
    if (long.size > 0) long.clear()
    // What aliases and merges may expand this body to (see expansionLimits).
    const within = expansionLimits(limits, bytes.length)
    let documents: unknown[]
    try {
      documents = loadAll(
        text,
        within === limits
          ? options
          : { ...options, maxAliases: within.nodes, maxTotalMergeKeys: within.nodes },
      )
    } catch (cause) {
      throw loadFailure(cause, within, context.duplicateKeys === 'refuse')
    }
    if (documents.length !== 1) {
      throw bodyError(
        'entity.parse.failed',
        documents.length === 0
          ? 'The body holds no YAML document.'
          : 'The body holds more than one YAML document.',
      )
    }
    // Without an alias (`*name`) nothing is shared: only then is the extra walk needed.
    if (text.includes('*')) unshareAliases(documents[0], within, text.length)
    return guardValue(documents[0], within, undefined, long)
  }
}

/**
 * Integer literals beyond 2^53 are never rounded. A decimal literal that is exactly how
 * JavaScript prints its double (JSON.stringify and js-yaml write 1e20 and other large whole
 * doubles that way) is that double; any other is a number only if a double holds it
 * exactly, else refused, or kept as decimal text with `'string'`. One beyond the largest
 * double (`0x1` and 256 zeros) is refused in either mode, as JSON's is: js-yaml would hand
 * it on as the string it is written as.
 */
function integerTag(mode: LargeIntegers) {
  return defineScalarTag<number | string>(intCoreTag.tagName, {
    ...intCoreTag,
    resolve(source, isExplicit, tagName) {
      const value = intCoreTag.resolve(source, isExplicit, tagName)
      if (value === NOT_RESOLVED) {
        // js-yaml gives up on an integer literal whose value is not finite.
        if ((isExplicit ? EXPLICIT_INTEGER : IMPLICIT_INTEGER).test(source)) {
          throw unmapped('an integer too large for a double')
        }
        return value
      }
      if (Number.isSafeInteger(value)) return value
      if (mode === 'refuse' && /^[-+]?[0-9]+$/.test(source)) {
        const digits = source.replace(/^[-+]/, '').replace(/^0+(?=[0-9])/, '')
        if (String(Math.abs(value)) === digits) return value
      }
      return largeInteger(integerLiteral(source), mode)
    },
  })
}

// The integer forms js-yaml's core schema resolves: YAML 1.2's plain ones, and with `!!int`
// also signed octal and hexadecimal and 0b binary.
const IMPLICIT_INTEGER = /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?[0-9]+)$/
const EXPLICIT_INTEGER = /^[-+]?(?:0b[01]+|0o[0-7]+|0x[0-9a-fA-F]+|[0-9]+)$/

/** The core schema's integer forms: decimal, 0o octal, 0x hexadecimal, with an optional sign. */
function integerLiteral(source: string): bigint {
  const negative = source.startsWith('-')
  const digits = source.replace(/^[-+]/, '')
  const value = BigInt(digits)
  return negative ? -value : value
}

/**
 * js-yaml turns a float literal that overflows a double (`1e400`, `1.8e308`) into the string
 * as written, so the same number would pass a `string` schema in YAML and be refused in
 * JSON. Here it is refused as JSON's is; `.inf` and `.nan` resolve and the guard refuses them.
 */
const FLOAT_LITERAL = /^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/
const finiteFloat = defineScalarTag<number>(floatCoreTag.tagName, {
  ...floatCoreTag,
  resolve(source, isExplicit, tagName) {
    const value = floatCoreTag.resolve(source, isExplicit, tagName)
    if (value === NOT_RESOLVED && FLOAT_LITERAL.test(source)) {
      throw unmapped('a number too large for a double')
    }
    return value
  },
})

/** `!!binary` as base64 text, its bytes counted against the string limit (see binaryText). */
function binaryAsBase64(limits: StructureLimits, long: Set<string>) {
  return defineScalarTag<string>(binaryTag.tagName, {
    resolve(source, isExplicit, tagName) {
      const bytes = binaryTag.resolve(source, isExplicit, tagName)
      return bytes === NOT_RESOLVED ? NOT_RESOLVED : binaryText(bytes, limits, long)
    },
    identify: () => false,
  })
}

const timestampAsIso = defineScalarTag<string>(timestampTag.tagName, {
  resolve(source, isExplicit, tagName) {
    const date = timestampTag.resolve(source, isExplicit, tagName)
    if (date === NOT_RESOLVED) return NOT_RESOLVED
    if (Number.isNaN(date.getTime())) throw unmapped('a timestamp outside the range of dates')
    return date.toISOString()
  },
  identify: () => false,
})

/** A route's schema: the core schema with the mappings above, bound to its limits. */
function schemaFor(mode: LargeIntegers, limits: StructureLimits, long: Set<string>): Schema {
  return CORE_SCHEMA.withTags(
    mergeTag,
    integerTag(mode),
    finiteFloat,
    binaryAsBase64(limits, long),
    timestampAsIso,
  )
}

/** js-yaml's exceptions, each to one catalogued refusal; ours pass through. */
function loadFailure(cause: unknown, limits: StructureLimits, refuseDuplicates: boolean) {
  if (isBodyError(cause)) return cause
  const reason = cause instanceof YAMLException ? cause.reason : ''
  // js-yaml refuses a key given twice (YAML requires unique keys); with duplicateKeys:
  // 'refuse' it is that refusal's own type, as in JSON and MessagePack.
  if (refuseDuplicates && reason === 'duplicated mapping key') return duplicateKey(limits.route)
  if (reason.startsWith('nesting exceeded')) {
    return structureError('entity.too.deep', limits, { cause })
  }
  if (reason.startsWith('aliases exceeded') || reason.startsWith('merge keys exceeded')) {
    return structureError('entity.too.many.nodes', limits, { cause })
  }
  if (/^unknown (scalar|sequence|mapping) tag/.test(reason)) {
    return bodyError('entity.type.unmapped', 'The body uses a YAML tag with no JSON equivalent.', {
      cause,
    })
  }
  // Never pass js-yaml's message on: its snippet quotes the input.
  return bodyError('entity.parse.failed', 'The body is not valid YAML.', { cause })
}
