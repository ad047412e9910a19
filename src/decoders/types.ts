import type { Type } from 'protobufjs'

/** Structure limits every decoded body is held to, whatever its format. */
export interface StructureLimits {
  /** Deepest nesting of arrays and objects; the top-level value is depth 1. */
  readonly depth: number
  /** Most keys in one object. */
  readonly keys: number
  /** Most values in the whole body, counted as expanded (a shared YAML alias counts each time). */
  readonly nodes: number
  /**
   * True when `nodes` was not set and follows the route's `limit`: a body that expands (YAML
   * aliases and merges) is then held to as many values as its own size in bytes, or the
   * default `maxNodes`, whichever is larger (`expansionLimits`).
   */
  readonly nodesFollowLimit?: boolean
  /** Longest string, key or value, in UTF-16 code units. */
  readonly stringLength: number
  /** The route these limits belong to (`'POST /users'`), named in refusals. */
  readonly route?: string
}

/**
 * Integers beyond ±(2^53 − 1), which a JavaScript number cannot hold exactly, in the formats
 * that carry them as integers (MessagePack int64, protobuf 64-bit fields, YAML integer
 * literals): refused with 400, or handed on as decimal strings.
 */
export type LargeIntegers = 'refuse' | 'string'

/**
 * An object key given twice (`{"qty":1,"qty":-1}`): `'refuse'` it with 400, or let the last
 * one win, as JSON.parse does (`'last'`). YAML refuses duplicates either way.
 */
export type DuplicateKeys = 'refuse' | 'last'

/** What a decoder is given besides the bytes: the route's limits (and, per format, more). */
export interface DecodeContext {
  readonly limits: StructureLimits
  /** Default `'refuse'`. */
  readonly largeIntegers?: LargeIntegers
  /** Default `'last'`. */
  readonly duplicateKeys?: DuplicateKeys
  /** The protobuf message type bound to the route, resolved at start-up. */
  readonly message?: Type
}

/** A wire format safebody can decode: the media types it answers to and its decoder. */
export interface Format {
  readonly name: FormatName
  /** Media type essences, lower case, that select this format. */
  readonly mediaTypes: readonly string[]
  /** A structured syntax suffix (RFC 6839) that also selects it, such as `+json`. */
  readonly suffix?: string
  /**
   * Whether a `charset` parameter applies; if so, only UTF-8 is accepted. A textual format's
   * decoder turns the bytes into text first and keeps nothing of them: it may be handed a
   * view that is reused once it returns (`joinForText`).
   */
  readonly textual: boolean
  /** Bytes to a guarded value in the data model, or a catalogued error. */
  decode(bytes: Buffer, context: DecodeContext): unknown
  /**
   * For formats with per-route state (a decoder instance, a message type): the format bound
   * to one route's context, built once at start-up. Throws if the route cannot use it.
   */
  bind?(context: DecodeContext): Format
}

/** The names of the formats a route can allow. */
/** Every format safebody decodes, by name. */
export const formatNames = [
  'json',
  'msgpack',
  'protobuf',
  'yaml',
  'urlencoded',
  'text',
  'raw',
] as const
export type FormatName = (typeof formatNames)[number]

/**
 * The formats a route allows when neither its binding nor the global `formats` option says;
 * protobuf is added on routes that bind a message type.
 */
export const defaultFormats: readonly FormatName[] = ['json', 'msgpack', 'yaml']

/** True when `name` is a format safebody knows. */
export function isFormatName(name: unknown): name is FormatName {
  return typeof name === 'string' && (formatNames as readonly string[]).includes(name)
}
