import type { DuplicateKeys, LargeIntegers, StructureLimits } from '../decoders/types.js'

/** Limits that apply to every route, and that a binding may tighten or loosen for its own. */
export interface LimitOptions {
  /** Most body bytes, counted on the wire and after inflation. Default `'100kb'`. */
  limit?: number | string
  /** Milliseconds the whole body may take to arrive. Default 10 000 (hapi's choice). */
  timeout?: number
  /** Inflate gzip, deflate and br bodies; if false they are refused with 415. Default true. */
  inflate?: boolean
  /** Deepest nesting of arrays and objects. Default 64. */
  maxDepth?: number
  /** Most keys in one object. Default 1000. */
  maxKeys?: number
  /** Most values in a whole body. Default 100 000. */
  maxNodes?: number
  /** Longest string, in characters. Default 100 000. */
  maxStringLength?: number
  /**
   * Integers beyond ±(2^53 − 1) in MessagePack, protobuf and YAML: `'refuse'` them with 400
   * (default), or pass them on as decimal `'string'`s. Never rounded.
   */
  largeIntegers?: LargeIntegers
  /**
   * An object key given twice in JSON, YAML or MessagePack: `'refuse'` the body with 400
   * `entity.key.duplicate`, or let the last one win as JSON.parse does (`'last'`, default;
   * YAML refuses duplicates either way, as 400 `entity.parse.failed`).
   */
  duplicateKeys?: DuplicateKeys
}

/** The documented defaults of every limit option. */
export const defaults = {
  limit: 100 * 1024,
  timeout: 10_000,
  inflate: true,
  maxDepth: 64,
  maxKeys: 1000,
  maxNodes: 100_000,
  maxStringLength: 100_000,
  largeIntegers: 'refuse',
  duplicateKeys: 'last',
} as const

/**
 * `maxNodes` and `maxStringLength` when not set: the fixed default, or the route's `limit` in
 * bytes if that is larger. In JSON, forms and text a string of n characters takes at least n
 * bytes and a value at least one, so a body within `limit` stays within both; MessagePack
 * spends a byte per value too. Where a format can expand (YAML aliases and merges, protobuf
 * defaults), values are counted as expanded, so the same bound caps what a body may expand
 * to: as many values as a JSON body of `limit` bytes could hold.
 */
export function sizeLimit(key: 'maxNodes' | 'maxStringLength', limit: number): number {
  return Math.max(defaults[key], limit)
}

/**
 * The limits a body of `size` bytes that may expand (YAML aliases and merges) is held to. A
 * route's `limit` stands for the largest body it takes, but a few hundred bytes of aliases
 * can expand as far as any budget allows: where `maxNodes` follows `limit`, such a body may
 * expand to as many values as its own size in bytes, or the default, whichever is larger. A
 * `maxNodes` that was set holds as it is.
 */
export function expansionLimits(limits: StructureLimits, size: number): StructureLimits {
  if (limits.nodesFollowLimit !== true) return limits
  const nodes = Math.max(defaults.maxNodes, size)
  return nodes >= limits.nodes ? limits : { ...limits, nodes }
}
