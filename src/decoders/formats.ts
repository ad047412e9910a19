import type { Type } from 'protobufjs'
import { decodeJson } from './json.js'
import { msgpackFormat } from './msgpack.js'
import { protobufFormat } from './protobuf.js'
import { decodeRaw } from './raw.js'
import { decodeText } from './text.js'
import { decodeUrlencoded } from './urlencoded.js'
import { yamlFormat } from './yaml.js'
import type { StructureLimits } from '../core/guard.js'

/**
 * Integers beyond ±(2^53 − 1), which a JavaScript number cannot hold exactly, in the formats
 * that carry them as integers (MessagePack int64, protobuf 64-bit fields, YAML integer
 * literals): refused with 400, or handed on as decimal strings.
 */
export type LargeIntegers = 'refuse' | 'string'

/** What a decoder is given besides the bytes: the route's limits (and, per format, more). */
export interface DecodeContext {
  readonly limits: StructureLimits
  /** Default `'refuse'`. */
  readonly largeIntegers?: LargeIntegers
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
  /** Whether a `charset` parameter applies; if so, only UTF-8 is accepted. */
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
export type FormatName = 'json' | 'msgpack' | 'protobuf' | 'yaml' | 'urlencoded' | 'text' | 'raw'

/** Every format, by name. */
export const formats: Readonly<Record<FormatName, Format>> = {
  json: {
    name: 'json',
    mediaTypes: ['application/json'],
    suffix: '+json',
    textual: true,
    decode: (bytes, context) => decodeJson(bytes, context.limits),
  },
  msgpack: msgpackFormat,
  protobuf: protobufFormat,
  yaml: yamlFormat,
  urlencoded: {
    name: 'urlencoded',
    mediaTypes: ['application/x-www-form-urlencoded'],
    textual: true,
    decode: (bytes, context) => decodeUrlencoded(bytes, context.limits),
  },
  text: {
    name: 'text',
    mediaTypes: ['text/plain'],
    textual: true,
    decode: (bytes, context) => decodeText(bytes, context.limits),
  },
  raw: {
    name: 'raw',
    mediaTypes: ['application/octet-stream'],
    textual: false,
    decode: (bytes) => decodeRaw(bytes),
  },
}

/**
 * The formats a route allows when neither its binding nor the global `formats` option says;
 * protobuf is added on routes that bind a message type.
 */
export const defaultFormats: readonly FormatName[] = ['json', 'msgpack', 'yaml']

/** True when `name` is a format safebody knows. */
export function isFormatName(name: unknown): name is FormatName {
  return typeof name === 'string' && Object.hasOwn(formats, name)
}

/** The format as one route uses it: bound to the route's context if it needs one. */
export function bindFormat(format: Format, context: DecodeContext): Format {
  return format.bind === undefined ? format : format.bind(context)
}
