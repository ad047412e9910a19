export type { DecodeContext, DuplicateKeys, Format, FormatName, LargeIntegers } from './types.js'
import { decodeJson } from './json.js'
import { msgpackFormat } from './msgpack.js'
import { protobufFormat } from './protobuf.js'
import { decodeRaw } from './raw.js'
import { decodeText } from './text.js'
import { decodeUrlencoded } from './urlencoded.js'
import { yamlFormat } from './yaml.js'
import type { DecodeContext, Format, FormatName } from './types.js'

/** Every format, by name. */
export const formats: Readonly<Record<FormatName, Format>> = {
  json: {
    name: 'json',
    mediaTypes: ['application/json'],
    suffix: '+json',
    textual: true,
    decode: (bytes, context) =>
      decodeJson(bytes, context.limits, context.largeIntegers, context.duplicateKeys),
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

/** The format as one route uses it: bound to the route's context if it needs one. */
export function bindFormat(format: Format, context: DecodeContext): Format {
  return format.bind === undefined ? format : format.bind(context)
}
