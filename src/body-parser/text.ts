import { type CharsetOptions, normalizeOptions, type ParserOptions } from './options.js'
import { decode, type ParserMiddleware, parserMiddleware } from './read.js'

/** `text()`'s options (body-parser's). */
export interface TextOptions extends ParserOptions, CharsetOptions {}

/**
 * Read bodies as a string in their charset, as body-parser's `text()` does.
 *
 * @example
 * app.use(bodyParser.text({ type: 'text/html' }))
 */
export function text(options?: TextOptions): ParserMiddleware {
  return parserMiddleware({
    settings: normalizeOptions(options, 'text/plain'),
    acceptCharset: () => true,
    textual: true,
    parse: (bytes, charset) => decode(bytes, charset as string),
  })
}

/** `import text from 'safebody/body-parser/text'`, as body-parser 2.4 exports it. */
export default text
