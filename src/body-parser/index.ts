import { formatParser } from './format.js'
import { bodyParser } from './generic.js'
import { json } from './json.js'
import { msgpack, protobuf, yaml } from './structured.js'
import { raw } from './raw.js'
import { text } from './text.js'
import { urlencoded } from './urlencoded.js'

/**
 * `safebody/body-parser`: body-parser 2.x's API over safebody's read path. Calling it
 * directly throws, as body-parser 2.x does; its parsers are properties and named exports.
 */
export interface BodyParser {
  (): never
  json: typeof json
  raw: typeof raw
  text: typeof text
  urlencoded: typeof urlencoded
  /** Beyond body-parser: the formats it never had, on the same read path. */
  msgpack: typeof msgpack
  yaml: typeof yaml
  protobuf: typeof protobuf
}

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
export type { FormatParserOptions } from './format.js'
export type { JsonOptions } from './json.js'
export type { CharsetOptions, ParserOptions, TypeOption, Verify } from './options.js'
export type { RawOptions } from './raw.js'
export type { ProtobufOptions, StructuredOptions } from './structured.js'
export type { ParserMiddleware } from './read.js'
export type { TextOptions } from './text.js'
export type { UrlencodedOptions } from './urlencoded.js'
export { formatParser, json, msgpack, protobuf, raw, text, urlencoded, yaml }
