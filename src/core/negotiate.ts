import { parse as parseContentType } from 'content-type'
import { type BodyError, bodyError, settingNote } from '../errors.js'
import type { Format } from '../decoders/formats.js'

/** The formats one route allows, indexed for a lookup per request. */
export interface FormatTable {
  readonly byMediaType: ReadonlyMap<string, Format>
  readonly bySuffix: ReadonlyMap<string, Format>
  readonly names: readonly string[]
  /** The route the table belongs to, named in refusals. */
  readonly route?: string
  /**
   * The last Content-Type header this table accepted, and its format. A route's clients send
   * the same header over and over: comparing the strings is cheaper than the two map lookups
   * (each hashing the request's fresh string) that found it, 0.2 us a request on fastify.
   */
  readonly last: { header: string; format: Format | null }
}

/** Index the formats a route allows. Done once per route, at start-up. */
export function formatTable(allowed: readonly Format[], route?: string): FormatTable {
  const byMediaType = new Map<string, Format>()
  const bySuffix = new Map<string, Format>()
  for (const format of allowed) {
    for (const type of format.mediaTypes) byMediaType.set(type, format)
    if (format.suffix) bySuffix.set(format.suffix, format)
  }
  const names = allowed.map((f) => f.name)
  return { byMediaType, bySuffix, names, route, last: { header: '', format: null } }
}

interface MediaType {
  readonly essence: string
  readonly charset: string | undefined
  /**
   * The header says `charset=` more times than content-type read a charset: twice (RFC 6838,
   * 4.3: a repeated parameter is an error), or once where content-type read none (inside a
   * quoted value, which a reader that knows no quoting takes for the parameter).
   */
  readonly charsets: boolean
}

// Clients send the same few Content-Type strings over and over: parse each once. The cache
// is bounded so that a client sending endless distinct headers cannot grow it.
const parsedHeaders = new Map<string, MediaType | null>()
const PARSED_HEADERS_MAX = 256

function parseMediaType(header: string): MediaType | null {
  let parsed = parsedHeaders.get(header)
  if (parsed !== undefined) return parsed
  try {
    const { type, parameters } = parseContentType(header)
    const charset = parameters.charset?.toLowerCase()
    parsed = {
      essence: type,
      charset,
      charsets: charsetsIn(header) !== (charset === undefined ? 0 : 1),
    }
  } catch {
    parsed = null
  }
  if (parsedHeaders.size < PARSED_HEADERS_MAX) parsedHeaders.set(header, parsed)
  return parsed
}

/**
 * How many times the header says `charset=` (any case, spaces before the `=`, or RFC 2231's
 * `charset*=` and its continuations), wherever it does after a character that ends a token:
 * in a parameter or in a quoted value. Parsers disagree on where a quoted string starts
 * (content-type opens one only after `=`), so counting every such spelling is the one count
 * they all agree is at least theirs. Linear: one indexOf cursor over the lower-cased text.
 */
function charsetsIn(header: string): number {
  const text = header.toLowerCase()
  let count = 0
  for (let at = text.indexOf('charset'); at !== -1; at = text.indexOf('charset', at + 7)) {
    // `xcharset=` is another parameter's name.
    if (at > 0 && isTokenChar(text.charCodeAt(at - 1))) continue
    let next = at + 7
    // RFC 2231: `charset*=`, and the continuations `charset*0=`, `charset*0*=`.
    if (text.charCodeAt(next) === 0x2a) {
      next++
      while (text.charCodeAt(next) >= 0x30 && text.charCodeAt(next) <= 0x39) next++
      if (text.charCodeAt(next) === 0x2a) next++
    }
    while (text.charCodeAt(next) === 0x20 || text.charCodeAt(next) === 0x09) next++
    if (text.charCodeAt(next) === 0x3d) count++
  }
  return count
}

/** RFC 9110's tchar, lower case: `!#$%&'*+-.^_\`|~`, digits and letters. */
function isTokenChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x23 && c <= 0x27) ||
    c === 0x21 ||
    c === 0x2a ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2e ||
    (c >= 0x5e && c <= 0x60) ||
    c === 0x7c ||
    c === 0x7e
  )
}

/**
 * Pick the decoder for a Content-Type header from the route's allow-list, or refuse: 415
 * for a missing, malformed or unlisted type, and for any charset but UTF-8 on a textual
 * format. Needs only the headers, so a refused type costs no read.
 */
export function negotiate(header: string | undefined, table: FormatTable): Format {
  const { last } = table
  if (header === last.header && last.format !== null) return last.format
  const media = header === undefined ? null : parseMediaType(header)
  if (media === null) {
    throw bodyError(
      'content.type.unsupported',
      `The request has no valid Content-Type (${formatsNote(table)}).`,
    )
  }
  let format = table.byMediaType.get(media.essence)
  if (format === undefined) {
    const plus = media.essence.lastIndexOf('+')
    if (plus !== -1) format = table.bySuffix.get(media.essence.slice(plus))
  }
  if (format === undefined) {
    throw bodyError(
      'content.type.unsupported',
      `This route accepts ${table.names.join(', ')} bodies only (${formatsNote(table)}).`,
    )
  }
  // content-type keeps the first, another reader may take the last or one in a quoted value:
  // which charset the body is in would depend on who reads the header.
  if (media.charsets) {
    throw bodyError(
      'charset.unsupported',
      'The Content-Type says charset= more than once, or inside a quoted value: send one charset parameter, UTF-8.',
    )
  }
  if (format.textual && media.charset !== undefined && !isUtf8Label(media.charset)) {
    throw bodyError('charset.unsupported', 'Only UTF-8 bodies are accepted.', {
      charset: media.charset,
    })
  }
  last.header = header as string
  last.format = format
  return format
}

/** 415 for a request with more than one Content-Type line (`repeatsContentType`). */
export function repeatedContentType(table: FormatTable): BodyError {
  return bodyError(
    'content.type.unsupported',
    `The request has more than one Content-Type header: send one (${formatsNote(table)}).`,
  )
}

/**
 * 415 for a body another parser took before safebody could (a fastify content-type parser
 * registered after the plugin): its route accepts only the formats it lists, as negotiation
 * says of any other type. (The fix is the server's: list the format in `formats`, which the
 * detail names, rather than register another parser for it.)
 */
export function parsedByAnother(table: FormatTable): BodyError {
  return bodyError(
    'content.type.unsupported',
    `This route accepts ${table.names.join(', ')} bodies only (${formatsNote(table)}).`,
  )
}

function formatsNote(table: FormatTable): string {
  return settingNote('formats', `[${table.names.join(', ')}]`, table.route)
}

/** True for the charset labels that name UTF-8 (lower case, as parsed). */
export function isUtf8Label(charset: string): boolean {
  return charset === 'utf-8' || charset === 'utf8'
}
