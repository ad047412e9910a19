import { decodeJson } from './decoders/json.js'
import { decodeRaw } from './decoders/raw.js'
import { decodeText } from './decoders/text.js'
import { decodeUrlencoded } from './decoders/urlencoded.js'
import type { StructureLimits } from './guard.js'

/** What a decoder is given besides the bytes: the route's limits (and, per format, more). */
export interface DecodeContext {
  readonly limits: StructureLimits
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
}

/** The names of the formats a route can allow. */
export type FormatName = 'json' | 'urlencoded' | 'text' | 'raw'

/** Every format, by name. */
export const formats: Readonly<Record<FormatName, Format>> = {
  json: {
    name: 'json',
    mediaTypes: ['application/json'],
    suffix: '+json',
    textual: true,
    decode: (bytes, context) => decodeJson(bytes, context.limits),
  },
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

/** The formats a route allows when its binding does not say. */
export const defaultFormats: readonly FormatName[] = ['json']

/** True when `name` is a format safebody knows. */
export function isFormatName(name: unknown): name is FormatName {
  return typeof name === 'string' && Object.hasOwn(formats, name)
}
