import { type BodyErrorType, isBodyError, type BodyError } from '../errors.js'
import { bindFormat, type DecodeContext, type Format, formats } from '../decoders/formats.js'
import { type FormatTable, formatTable, negotiate } from './negotiate.js'
import type { RoutePolicy } from './options.js'

/**
 * Report mode is a policy the request path consults where it decides a refusal. It relaxes
 * only the refusals that come from the route's policy (which schema, which formats, whether a
 * body is required), never danger in the body: malformed, forbidden key, limits, encoding,
 * charset and signature refusals stand in every mode.
 */
export const relaxedInReport: ReadonlySet<BodyErrorType> = new Set<BodyErrorType>([
  'entity.validation.failed',
  'route.schema.missing',
  'content.type.unsupported',
  'entity.missing',
])

/** True when report mode turns this refusal into a report. */
export function relaxed(err: unknown, policy: RoutePolicy): err is BodyError {
  return policy.mode === 'report' && isBodyError(err) && relaxedInReport.has(err.type)
}

/** Report mode met a Content-Type no format decodes: the body is left to the application. */
export const unread = Symbol('safebody.unread')

/** How report mode decodes what the route's policy would refuse: by Content-Type, any format. */
export interface Fallback {
  /** The global policy, for routes with no binding. */
  readonly policy: RoutePolicy
  /** The global limits, for routes with no binding. */
  readonly context: DecodeContext
  /** Every format that needs no per-route binding (protobuf needs a message type). */
  readonly table: FormatTable
}

/** Build the fallback once, at start-up, from the global policy. */
export function fallbackFor(policy: RoutePolicy): Fallback {
  const context = { limits: policy.limits, largeIntegers: policy.largeIntegers }
  const unbound = Object.values(formats).filter((f) => f.name !== 'protobuf')
  return { policy, context, table: formatTable(unbound) }
}

/**
 * The format report mode decodes a body with when the route's own list refused it: any
 * known format, bound to the route's limits (a detour, so binding per request is fine), or
 * `unread` when no format knows the type. A charset no format takes (`application/json;
 * charset=latin1`) is refused as in enforce mode: it is danger in the body, not policy.
 */
export function reportFormat(
  header: string | undefined,
  fallback: Fallback,
  context: DecodeContext,
): Format | typeof unread {
  let format: Format
  try {
    format = negotiate(header, fallback.table)
  } catch (err) {
    if (isBodyError(err) && err.type === 'content.type.unsupported') return unread
    throw err
  }
  return bindFormat(format, context)
}
