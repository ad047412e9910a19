import type { StructureLimits } from '../core/guard.js'
import { checkJson } from '../decoders/json.js'
import {
  type CharsetOptions,
  normalizeOptions,
  type ParserOptions,
  type StructureLimitOptions,
  structureLimits,
} from './options.js'
import { decode, type ParserMiddleware, parserMiddleware } from './read.js'

/** `json()`'s options: body-parser's, and safeBody's structure limits. */
export interface JsonOptions extends ParserOptions, CharsetOptions, StructureLimitOptions {
  /** Passed to JSON.parse as its second argument. */
  reviver?: (this: unknown, key: string, value: unknown) => unknown
  /** Only objects and arrays at the top level (default true); false takes any JSON value. */
  strict?: boolean
}

/**
 * Parse JSON bodies, as body-parser's `json()` does, and refuse `__proto__` and
 * `constructor.prototype` keys and bodies past the structure limits with 400.
 *
 * @example
 * app.use(bodyParser.json({ limit: '1mb' }))
 */
export function json(options?: JsonOptions): ParserMiddleware {
  const settings = normalizeOptions(options, 'application/json')
  const parse = jsonParser(options, structureLimits(options, settings.limit))
  return parserMiddleware({
    settings,
    // RFC 7159 §8.1: JSON is in a Unicode encoding.
    acceptCharset: (charset) => charset.slice(0, 4) === 'utf-',
    textual: true,
    parse: (bytes, charset) => parse(decode(bytes, charset as string)),
  })
}

// JSON's whitespace (RFC 7159): space, tab, line feed, carriage return.
const FIRST_NON_WHITESPACE = /^[ \t\n\r]*([^ \t\n\r]|$)/
const JSON_SYNTAX_CHAR = '#'
const JSON_SYNTAX_RUN = /#+/g

function jsonParser(options: JsonOptions | undefined, limits: StructureLimits) {
  const reviver = options?.reviver
  const strict = options?.strict !== false
  return (text: string): unknown => {
    // body-parser's special case: an empty body is a common client mistake, not an error.
    if (text.length === 0) return {}
    if (strict && text[0] !== '{' && text[0] !== '[') {
      const first = FIRST_NON_WHITESPACE.exec(text)?.[1] || undefined
      if (first !== '{' && first !== '[') throw strictSyntaxError(text, first)
    }
    // The check walks the plain value; the app's reviver then runs on a parse of its own,
    // so it may build what it likes (Dates, Maps) out of a body already found safe.
    const value = parseOrThrow(text, undefined)
    checkJson(value, text, limits)
    return reviver ? parseOrThrow(text, reviver) : value
  }
}

function parseOrThrow(text: string, reviver: JsonOptions['reviver']): unknown {
  try {
    return JSON.parse(text, reviver)
  } catch (e) {
    const err = e as Error
    throw normalizeJsonSyntaxError(err, err.message, err.stack ?? '')
  }
}

// body-parser's strict-mode error: the message JSON.parse would give for the first
// character, computed the way body-parser does so that the two messages are identical.
function strictSyntaxError(text: string, char: string | undefined): Error {
  const index = char === undefined ? -1 : text.indexOf(char)
  const partial =
    index !== -1 ? text.substring(0, index) + JSON_SYNTAX_CHAR.repeat(text.length - index) : ''
  try {
    JSON.parse(partial)
    throw new SyntaxError('strict violation')
  } catch (e) {
    const err = e as Error
    const message = err.message.replace(JSON_SYNTAX_RUN, (placeholder) =>
      text.substring(index, index + placeholder.length),
    )
    return normalizeJsonSyntaxError(err, message, err.stack ?? '')
  }
}

function normalizeJsonSyntaxError(error: Error, message: string, stack: string): Error {
  for (const key of Object.getOwnPropertyNames(error)) {
    if (key !== 'stack' && key !== 'message')
      delete (error as unknown as Record<string, unknown>)[key]
  }
  error.stack = stack.replace(error.message, message)
  error.message = message
  return error
}

/** `import json from 'safebody/body-parser/json'`, as body-parser 2.4 exports it. */
export default json
