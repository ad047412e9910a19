import type { IncomingMessage, ServerResponse } from 'node:http'
import bytes from 'bytes'
import typeis from 'type-is'
import type { StructureLimits } from '../core/guard.js'
import { defaults, type LimitOptions, sizeLimit } from '../core/limits.js'

/**
 * Called with the raw bytes (after inflation, before decoding) and the request's charset
 * (`null` for raw); throw to refuse the body with 403 `entity.verify.failed`, or with the
 * thrown error's own `status` and `type` if it has them.
 */
export type Verify = (
  req: IncomingMessage,
  res: ServerResponse,
  buf: Buffer,
  encoding: string | null,
) => void

/** Which requests a parser reads: type-is media types (`'json'`, wildcards), or a predicate. */
export type TypeOption = string | readonly string[] | ((req: IncomingMessage) => unknown)

/** The options every parser takes: body-parser 2.x's, and one of ours. */
export interface ParserOptions {
  /** Inflate gzip, deflate, br (and zstd where Node has it); if false they are refused. Default true. */
  inflate?: boolean
  /** Most body bytes, after inflation: a number or a `bytes` string. Default `'100kb'`. */
  limit?: number | string | null
  /** The Content-Types this parser reads; others pass through untouched. */
  type?: TypeOption
  /** An integrity check of the raw bytes. */
  verify?: Verify
  /**
   * Attach the body to parse and verify errors as `err.body`, as body-parser does. Default
   * false: the body is the client's (passwords, tokens) and error objects end up in logs.
   */
  errorBody?: boolean
}

/** The options of the parsers that decode text. */
export interface CharsetOptions {
  /** The charset when the Content-Type names none. Default `'utf-8'`. */
  defaultCharset?: string
}

/** A parser's options, normalised once when its factory is called. */
export interface ParserSettings {
  readonly inflate: boolean
  readonly limit: number
  readonly verify: Verify | false
  readonly defaultCharset: string
  readonly shouldParse: (req: IncomingMessage) => boolean
  readonly errorBody: boolean
}

/**
 * Normalise and check the common options as body-parser does, with its messages: a bad
 * `limit` or `verify` throws here, at start-up. Unknown keys are ignored, as body-parser
 * ignores them, so an options object written for body-parser works unchanged.
 */
export function normalizeOptions(
  options: (ParserOptions & CharsetOptions) | undefined,
  defaultType: string | readonly string[],
): ParserSettings {
  const limit =
    options?.limit === undefined || options.limit === null ? 102400 : bytes.parse(options.limit)
  if (limit === null) {
    throw new TypeError(`option limit "${String(options?.limit)}" is invalid`)
  }
  const verify = options?.verify || false
  if (verify !== false && typeof verify !== 'function') {
    throw new TypeError('option verify must be function')
  }
  const type: TypeOption = options?.type || defaultType
  return {
    inflate: options?.inflate !== false,
    limit,
    verify,
    defaultCharset: options?.defaultCharset || 'utf-8',
    shouldParse: typeof type === 'function' ? (req) => Boolean(type(req)) : typeChecker(type),
    errorBody: options?.errorBody === true,
  }
}

function typeChecker(type: string | readonly string[]): (req: IncomingMessage) => boolean {
  const types = typeof type === 'string' ? [type] : [...type]
  return (req) => Boolean(typeis(req, types))
}

/** The structure limits the JSON parser (and the format parsers) hold bodies to, as safeBody. */
export type StructureLimitOptions = Pick<
  LimitOptions,
  'maxDepth' | 'maxKeys' | 'maxNodes' | 'maxStringLength'
>

/**
 * safeBody's defaults, checked as safeBody checks them: `maxNodes` and `maxStringLength`
 * follow the parser's `limit` unless set (core/options.ts `sizeLimit`), so a body that fits
 * `limit` is never refused for its string lengths or value count alone.
 */
export function structureLimits(
  options: StructureLimitOptions | undefined,
  limit: number,
): StructureLimits {
  const pick = (key: keyof StructureLimitOptions, fallback: number) => {
    const value = options?.[key] ?? fallback
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`option ${key} must be a positive integer`)
    }
    return value
  }
  // body-parser takes any `limit`, `Infinity` included: past 2^53 bytes, no count follows it.
  const size = Math.min(limit, Number.MAX_SAFE_INTEGER)
  return {
    depth: pick('maxDepth', defaults.maxDepth),
    keys: pick('maxKeys', defaults.maxKeys),
    nodes: pick('maxNodes', sizeLimit('maxNodes', size)),
    stringLength: pick('maxStringLength', sizeLimit('maxStringLength', size)),
    route: undefined,
  }
}
