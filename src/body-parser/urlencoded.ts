import { countParameters, parseForm } from '../decoders/urlencoded.js'
import { settingNote } from '../errors.js'
import { parserError } from './errors.js'
import { normalizeOptions, type ParserOptions } from './options.js'
import { decode, type ParserMiddleware, parserMiddleware } from './read.js'

/** `urlencoded()`'s options (body-parser's). */
export interface UrlencodedOptions extends ParserOptions {
  /** qs's nested syntax (`a[b]=1`) when true; flat keys when false (default). */
  extended?: boolean
  /** Most parameters; more is a 413. Default 1000. */
  parameterLimit?: number
  /** Deepest nesting with `extended`; deeper is a 400. Default 32. */
  depth?: number
  /** The charset when the Content-Type names none: `'utf-8'` (default) or `'iso-8859-1'`. */
  defaultCharset?: 'utf-8' | 'iso-8859-1'
  /** Let a `utf8=✓` parameter choose the charset. Default false. */
  charsetSentinel?: boolean
  /** Decode `&#9786;` numeric entities in iso-8859-1 forms. Default false. */
  interpretNumericEntities?: boolean
}

/**
 * Parse URL-encoded forms, as body-parser's `urlencoded()` does, except that a key with a
 * `__proto__` or `constructor[prototype]` segment is refused with 400, whatever `extended`
 * says, instead of being dropped.
 *
 * @example
 * app.use(bodyParser.urlencoded({ extended: true }))
 */
export function urlencoded(options?: UrlencodedOptions): ParserMiddleware {
  const settings = normalizeOptions(options, 'application/x-www-form-urlencoded')
  if (settings.defaultCharset !== 'utf-8' && settings.defaultCharset !== 'iso-8859-1') {
    throw new TypeError('option defaultCharset must be either utf-8 or iso-8859-1')
  }
  const parse = formParser(options)
  return parserMiddleware({
    settings,
    acceptCharset: (charset) => charset === 'utf-8' || charset === 'iso-8859-1',
    textual: true,
    parse: (bytes, charset) => parse(decode(bytes, charset as string), charset as FormCharset),
  })
}

type FormCharset = 'utf-8' | 'iso-8859-1'

function formParser(options: UrlencodedOptions | undefined) {
  const extended = Boolean(options?.extended)
  let parameterLimit = options?.parameterLimit !== undefined ? options.parameterLimit : 1000
  const depth = extended ? (options?.depth !== undefined ? options.depth : 32) : 0
  if (Number.isNaN(Number(parameterLimit)) || parameterLimit < 1) {
    throw new TypeError('option parameterLimit must be a positive number')
  }
  if (Number.isNaN(Number(depth)) || depth < 0) {
    throw new TypeError('option depth must be a zero or a positive number')
  }
  if (Number.isFinite(Number(parameterLimit))) parameterLimit = parameterLimit | 0
  const { charsetSentinel, interpretNumericEntities } = options ?? {}

  return (body: string, charset: FormCharset): unknown => {
    if (body.length === 0) return {}
    const count = countParameters(body, parameterLimit)
    if (count > parameterLimit) {
      throw parserError(
        'parameters.too.many',
        'too many parameters',
        `The form has too many parameters (${settingNote('parameterLimit', parameterLimit)}).`,
      )
    }
    try {
      return parseForm(body, {
        depth,
        arrayLimit: extended ? Math.max(100, count) : count,
        strictArrays: false,
        charset,
        charsetSentinel,
        interpretNumericEntities,
      })
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      throw parserError(
        'querystring.parse.rangeError',
        'The input exceeded the depth',
        `A form key is nested too deeply (${settingNote('depth', depth)}).`,
      )
    }
  }
}

/** `import urlencoded from 'safebody/body-parser/urlencoded'`, as body-parser 2.4 exports it. */
export default urlencoded
