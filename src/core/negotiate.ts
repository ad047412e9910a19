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
  return { byMediaType, bySuffix, names, route }
}

interface MediaType {
  readonly essence: string
  readonly charset: string | undefined
  /** The charset parameter appears more than once (RFC 6838, 4.3: an error). */
  readonly charsets: boolean
}

// A charset parameter: after a ';', a name that is 'charset' in any case. Quoted values are
// matched whole, so a ';charset=' inside one is not taken for a parameter.
const CHARSET_PARAMETER = /"(?:[^"\\]|\\.)*"|;[ \t]*(charset)[ \t]*=/gi

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
    parsed = { essence: type, charset, charsets: charset !== undefined && charsetsIn(header) > 1 }
  } catch {
    parsed = null
  }
  if (parsedHeaders.size < PARSED_HEADERS_MAX) parsedHeaders.set(header, parsed)
  return parsed
}

function charsetsIn(header: string): number {
  let count = 0
  for (const match of header.matchAll(CHARSET_PARAMETER)) if (match[1] !== undefined) count++
  return count
}

/**
 * Pick the decoder for a Content-Type header from the route's allow-list, or refuse: 415
 * for a missing, malformed or unlisted type, and for any charset but UTF-8 on a textual
 * format. Needs only the headers, so a refused type costs no read.
 */
export function negotiate(header: string | undefined, table: FormatTable): Format {
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
  // content-type keeps the first, another reader may take the last: which charset the body
  // is in would depend on who reads the header.
  if (media.charsets) {
    throw bodyError(
      'charset.unsupported',
      'The Content-Type names its charset more than once: send one, UTF-8.',
    )
  }
  if (format.textual && media.charset !== undefined && !isUtf8Label(media.charset)) {
    throw bodyError('charset.unsupported', 'Only UTF-8 bodies are accepted.', {
      charset: media.charset,
    })
  }
  return format
}

/** 415 for a request with more than one Content-Type line (`repeatsContentType`). */
export function repeatedContentType(table: FormatTable): BodyError {
  return bodyError(
    'content.type.unsupported',
    `The request has more than one Content-Type header: send one (${formatsNote(table)}).`,
  )
}

function formatsNote(table: FormatTable): string {
  return settingNote('formats', `[${table.names.join(', ')}]`, table.route)
}

/** True for the charset labels that name UTF-8 (lower case, as parsed). */
export function isUtf8Label(charset: string): boolean {
  return charset === 'utf-8' || charset === 'utf8'
}
