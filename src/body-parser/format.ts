import { bindFormat, type DecodeContext, type Format } from '../decoders/formats.js'
import { isUtf8Label } from '../core/negotiate.js'
import {
  normalizeOptions,
  type ParserOptions,
  type StructureLimitOptions,
  structureLimits,
} from './options.js'
import { type ParserMiddleware, parserMiddleware } from './read.js'

/** Options of a parser built over a safebody format. */
export interface FormatParserOptions extends ParserOptions, StructureLimitOptions {}

/**
 * A body-parser-style middleware for any safebody format: the format's decoder and guard
 * on body-parser's read path. `type` defaults to the format's media types (and its `+suffix`);
 * a textual format accepts UTF-8 only (any other charset is a 415); an empty body leaves
 * `req.body` undefined. `context` carries what the format's decoder needs beyond limits.
 *
 * @example
 * export const msgpack = (options?: FormatParserOptions) => formatParser(formats.msgpack, options)
 */
export function formatParser(
  format: Format,
  options?: FormatParserOptions,
  context?: Omit<DecodeContext, 'limits'>,
): ParserMiddleware {
  const types = format.suffix ? [...format.mediaTypes, `*/*${format.suffix}`] : format.mediaTypes
  const settings = normalizeOptions({ ...options, defaultCharset: 'utf-8' }, types)
  const decodeContext = {
    ...context,
    limits: structureLimits(options, settings.limit),
  } as DecodeContext
  // Formats with per-route state (a decoder, a message type) are bound once, here.
  const bound = bindFormat(format, decodeContext)
  return parserMiddleware({
    settings,
    acceptCharset: format.textual ? isUtf8Label : null,
    textual: format.textual,
    parse: (bytes) => (bytes.length === 0 ? undefined : bound.decode(bytes, decodeContext)),
  })
}
