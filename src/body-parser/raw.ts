import { normalizeOptions, type ParserOptions } from './options.js'
import { type ParserMiddleware, parserMiddleware } from './read.js'

/** `raw()`'s options (body-parser's). */
export type RawOptions = ParserOptions

/**
 * Read bodies as a Buffer, as body-parser's `raw()` does; the charset is ignored.
 *
 * @example
 * app.post('/upload', bodyParser.raw({ type: 'image/*', limit: '5mb' }), handler)
 */
export function raw(options?: RawOptions): ParserMiddleware {
  return parserMiddleware({
    settings: normalizeOptions(options, 'application/octet-stream'),
    acceptCharset: null,
    parse: (bytes) => bytes,
  })
}

/** `import raw from 'safebody/body-parser/raw'`, as body-parser 2.4 exports it. */
export default raw
