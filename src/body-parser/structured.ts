import { formats, type LargeIntegers } from '../decoders/formats.js'
import { loadProto, type ProtoSource } from '../core/proto.js'
import { type FormatParserOptions, formatParser } from './format.js'
import type { ParserMiddleware } from './read.js'

/** Options of the MessagePack, YAML and protobuf parsers. */
export interface StructuredOptions extends FormatParserOptions {
  /** Integers beyond ±(2^53 − 1): refused with 400 (default), or passed on as decimal strings. */
  largeIntegers?: LargeIntegers
}

/** `protobuf()`'s options: the message type and the `.proto` files it comes from. */
export interface ProtobufOptions extends StructuredOptions {
  /** The message type's full name, such as `'demo.User'`. */
  message: string
  /** A folder of `.proto` files, or a list of paths; loaded once, when the parser is made. */
  proto: ProtoSource
}

/**
 * MessagePack bodies (application/vnd.msgpack, application/msgpack, application/x-msgpack)
 * decoded into the data model, on body-parser's read path.
 *
 * @example
 * app.use(bodyParser.msgpack({ limit: '1mb' }))
 */
export function msgpack(options?: StructuredOptions): ParserMiddleware {
  return formatParser(formats.msgpack, options, largeIntegers(options))
}

/**
 * YAML bodies (application/yaml, application/x-yaml, text/yaml, text/x-yaml) with the safe
 * core schema: one document, no JavaScript tags, aliases counted at their expanded size.
 *
 * @example
 * app.use(bodyParser.yaml())
 */
export function yaml(options?: StructuredOptions): ParserMiddleware {
  return formatParser(formats.yaml, options, largeIntegers(options))
}

/**
 * Protocol Buffers bodies (application/x-protobuf, application/protobuf,
 * application/vnd.google.protobuf) decoded as `message`, by the proto3 JSON mapping.
 * A `.proto` that does not load, or an unknown message, throws here, at start-up.
 *
 * @example
 * app.use(bodyParser.protobuf({ proto: 'proto', message: 'demo.User' }))
 */
export function protobuf(options: ProtobufOptions): ParserMiddleware {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('protobuf() needs { message, proto }')
  }
  const { message, proto, ...rest } = options
  if (typeof message !== 'string' || message === '') {
    throw new TypeError('option message must be a message type name like "demo.User"')
  }
  if (proto === undefined) throw new TypeError('option proto must name .proto files')
  const type = loadProto(proto).messageType(message)
  return formatParser(formats.protobuf, rest, { ...largeIntegers(rest), message: type })
}

function largeIntegers(options: StructuredOptions | undefined) {
  const value = options?.largeIntegers ?? 'refuse'
  if (value !== 'refuse' && value !== 'string') {
    throw new TypeError("option largeIntegers must be 'refuse' or 'string'")
  }
  return { largeIntegers: value }
}
