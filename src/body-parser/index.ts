import { createRequire } from 'node:module'
import type * as Format from './format.js'
import { type BodyParser, bodyParser } from './generic.js'
import { json } from './json.js'
import type { ParserMiddleware } from './read.js'
import { raw } from './raw.js'
import type * as Structured from './structured.js'
import { text } from './text.js'
import { urlencoded } from './urlencoded.js'

// The ESM entry of safebody/body-parser (the CommonJS one is require.cts). json, raw, text
// and urlencoded load with it; the formats body-parser never had load on their first call,
// with their decoders and libraries, so an app that parses JSON, forms or text loads no
// MessagePack, protobuf or YAML code. A synchronous load of an ES module is require(esm),
// which every Node this package supports (>= 20.19) has.
const load = createRequire(import.meta.url)
const structured = () => load('./structured.js') as typeof Structured

/**
 * MessagePack bodies decoded into the data model, on body-parser's read path.
 *
 * @example
 * app.use(bodyParser.msgpack({ limit: '1mb' }))
 */
export function msgpack(options?: Structured.StructuredOptions): ParserMiddleware {
  return structured().msgpack(options)
}

/**
 * YAML bodies with the safe core schema: one document, no JavaScript tags, aliases counted
 * at their expanded size.
 *
 * @example
 * app.use(bodyParser.yaml())
 */
export function yaml(options?: Structured.StructuredOptions): ParserMiddleware {
  return structured().yaml(options)
}

/**
 * Protocol Buffers bodies decoded as `message`; a `.proto` that does not load, or an
 * unknown message, throws here, at start-up.
 *
 * @example
 * app.use(bodyParser.protobuf({ proto: 'proto', message: 'demo.User' }))
 */
export function protobuf(options: Structured.ProtobufOptions): ParserMiddleware {
  return structured().protobuf(options)
}

/**
 * A body-parser-style middleware for any safebody format, on body-parser's read path.
 *
 * @example
 * app.use(formatParser(formats.msgpack, { limit: '1mb' }))
 */
export const formatParser: typeof Format.formatParser = (format, options, context) =>
  (load('./format.js') as typeof Format).formatParser(format, options, context)

const parsers: BodyParser = Object.assign(bodyParser, {
  json,
  raw,
  text,
  urlencoded,
  msgpack,
  yaml,
  protobuf,
})

export default parsers
export type { BodyParser } from './generic.js'
export type { FormatParserOptions } from './format.js'
export type { JsonOptions } from './json.js'
export type { CharsetOptions, ParserOptions, TypeOption, Verify } from './options.js'
export type { RawOptions } from './raw.js'
export type { ProtobufOptions, StructuredOptions } from './structured.js'
export type { ParserMiddleware } from './read.js'
export type { TextOptions } from './text.js'
export type { UrlencodedOptions } from './urlencoded.js'
export { json, raw, text, urlencoded }
