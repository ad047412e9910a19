import { AsyncResource } from 'node:async_hooks'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse as parseContentType } from 'content-type'
import createError from 'http-errors'
import typeis from 'type-is'
import { refuse } from '../core/connection.js'
import { readBody } from '../core/read.js'
import { joinForText } from '../core/text.js'
import { repeatsContentType } from '../core/request.js'
import { readyForAdds } from '../core/shape.js'
import { hasZstd } from '../core/zstd.js'
import { charsetDecoder } from './charset.js'
import { catalogue, settingNote } from '../errors.js'
import { asParserError, parserError } from './errors.js'
import type { ParserSettings } from './options.js'

/** What one parser adds to the shared read path. */
export interface ParserSpec {
  readonly settings: ParserSettings
  /** The charsets it decodes; `null` when the charset is ignored (raw bytes). */
  readonly acceptCharset: ((charset: string) => boolean) | null
  /** Bytes (and the charset, `null` when ignored) to the value for `req.body`; throw to refuse. */
  parse(bytes: Buffer, charset: string | null): unknown
  /**
   * True when `parse` turns the bytes into text (a copy) and keeps nothing of them: without
   * a `verify` hook, a body in chunks is then joined in a buffer the next one reuses.
   */
  readonly textual?: boolean
}

/** The request as the parsers see it: Express's, or any IncomingMessage. */
type ParserRequest = IncomingMessage & { body?: unknown; _body?: boolean }
export type Next = (err?: unknown) => void
/** A body-parser middleware, for Express 4 and 5 (and connect). */
export type ParserMiddleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void

// body-parser has no read timeout: Node's server.requestTimeout bounds a slow body. The
// read path wants one, so it gets the longest a timer can wait.
const NO_TIMEOUT = 2 ** 31 - 1

/** The middleware for a parser: body-parser's lib/read.js, step for step, over readBody. */
export function parserMiddleware(spec: ParserSpec): ParserMiddleware {
  const { settings } = spec
  return (incoming, res, next) => {
    const req = incoming as ParserRequest
    if (isFinished(req)) return next()
    if (!('body' in req)) req.body = undefined
    if (!typeis.hasBody(req) || !settings.shouldParse(req)) return next()
    // Which Content-Type decides is for no parser to guess (safeBody refuses it alike).
    if (repeatsContentType(req.rawHeaders)) return refuse(req, res, next, repeatedContentType())

    let charset: string | null = null
    if (spec.acceptCharset !== null) {
      charset = requestCharset(req) || settings.defaultCharset
      if (!spec.acceptCharset(charset)) {
        return refuse(req, res, next, unsupportedCharset(charset, charset))
      }
      // With verify, body-parser checks the charset before the Content-Encoding.
      if (settings.verify && charsetDecoder(charset) === null) {
        return refuse(req, res, next, unsupportedCharset(charset, charset.toLowerCase()))
      }
    }
    const coding = (req.headers['content-encoding'] || 'identity').toLowerCase()
    const codingError = checkCoding(coding, settings.inflate)
    if (codingError) return refuse(req, res, next, codingError)
    if (charset !== null && charsetDecoder(charset) === null) {
      return refuse(req, res, next, unsupportedCharset(charset, charset.toLowerCase()))
    }

    const parsed = (bytes: Buffer) => {
      if (settings.verify) {
        try {
          settings.verify(req, res, bytes, charset)
        } catch (err) {
          const type = (err as { type?: unknown } | null)?.type || 'entity.verify.failed'
          const detail = catalogue['entity.verify.failed'].detail
          return next(createError(403, err as Error, withBody({ type, detail }, bytes, settings)))
        }
      }
      let value: unknown
      try {
        value = spec.parse(bytes, charset)
      } catch (err) {
        const type = (err as { type?: unknown } | null)?.type || 'entity.parse.failed'
        const body = settings.errorBody && charset !== null ? decode(bytes, charset) : bytes
        // A parser's own SyntaxError has no client-safe sentence: the catalogue's goes with it.
        const detail =
          (err as { detail?: unknown } | null)?.detail ??
          (Object.hasOwn(catalogue, type as string)
            ? catalogue[type as keyof typeof catalogue].detail
            : undefined)
        return next(createError(400, err as Error, withBody({ type, detail }, body, settings)))
      }
      readyForAdds(req)
      req.body = value
      // Marks the body as taken for parsers that look (safeBody() refuses to run after us).
      req._body = true
      next()
    }
    // Called back from the stream's events, as raw-body calls body-parser back, and in the
    // middleware's async context, as raw-body's callback is: an AsyncLocalStorage store set
    // before the parser reaches the handlers after it. A textual parser's body in chunks is
    // parsed from a buffer reused once `parsed` returns.
    const context = new AsyncResource('safebody.body-parser')
    const joined = (chunks: Buffer[], length: number) =>
      parsed(joinForText(chunks, length) ?? Buffer.concat(chunks, length))
    readBody(
      req,
      req.headers,
      { limit: settings.limit, timeout: NO_TIMEOUT, inflate: true },
      {
        bodyRead: (bytes) => context.runInAsyncScope(parsed, null, bytes),
        bodyChunks:
          spec.textual === true && !settings.verify
            ? (chunks, length) => context.runInAsyncScope(joined, null, chunks, length)
            : undefined,
        readFailed: (err) =>
          context.runInAsyncScope(refuse, null, req, res, next, asParserError(err)),
      },
    )
  }
}

/** Decode body bytes in a charset the parser accepted and the read path checked. */
export function decode(bytes: Buffer, charset: string): string {
  const decoder = charsetDecoder(charset)
  if (decoder === null) throw unsupportedCharset(charset, charset.toLowerCase())
  return decoder(bytes)
}

function withBody<P extends { type: unknown }>(props: P, body: unknown, settings: ParserSettings) {
  return settings.errorBody ? { ...props, body } : props
}

// on-finished's isFinished for a request: already read, or its connection is gone.
function isFinished(req: IncomingMessage): boolean {
  const socket = req.socket
  return Boolean(
    (req as { upgrade?: boolean }).upgrade ||
    !socket ||
    !socket.readable ||
    (req.complete && !req.readable),
  )
}

// content-type 2 parses any string leniently; should it ever throw, there is no charset.
function requestCharset(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type']
  if (!header) return undefined
  try {
    return parseContentType(header).parameters.charset?.toLowerCase()
  } catch {
    return undefined
  }
}

function repeatedContentType() {
  return parserError(
    'content.type.unsupported',
    'more than one content-type header',
    'The request has more than one Content-Type header: send one.',
  )
}

function unsupportedCharset(charset: string, prop: string) {
  return parserError(
    'charset.unsupported',
    `unsupported charset "${charset.toUpperCase()}"`,
    'This charset is not accepted for this body.',
    { charset: prop },
  )
}

// body-parser's codings, spelled exactly: one coding, lower-cased, no x-gzip, no spaces.
function checkCoding(coding: string, inflate: boolean) {
  if (coding === 'identity') return null
  if (!inflate) {
    return parserError(
      'encoding.unsupported',
      'content encoding unsupported',
      `Compressed bodies are not accepted (${settingNote('inflate', 'false')}).`,
      { encoding: coding },
    )
  }
  if (['gzip', 'deflate', 'br'].includes(coding) || (coding === 'zstd' && hasZstd)) return null
  return parserError(
    'encoding.unsupported',
    `unsupported content encoding "${coding}"`,
    'This Content-Encoding is not accepted.',
    { encoding: coding },
  )
}
