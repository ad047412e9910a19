import createError from 'http-errors'
import { type BodyError, type BodyErrorProps, type BodyErrorType, catalogue } from '../errors.js'

/**
 * A catalogued error with body-parser's message for it: the status and `type` come from
 * the catalogue, `message` is body-parser's (apps match on it), `detail` stays client-safe.
 */
export function parserError(
  type: BodyErrorType,
  message: string,
  detail: string,
  props?: BodyErrorProps,
): BodyError {
  return createError(catalogue[type].status, message, { type, detail, ...props }) as BodyError
}

// body-parser's messages for the read failures raw-body reports.
const readMessages: Partial<Record<BodyErrorType, string>> = {
  'entity.too.large': 'request entity too large',
  'request.size.invalid': 'request size did not match content length',
  'request.aborted': 'request aborted',
}

/**
 * Give a refusal from safebody's read path body-parser's message. A body that does not
 * inflate keeps zlib's message, as body-parser passes zlib's error on.
 */
export function asParserError(err: unknown): unknown {
  const e = err as Partial<BodyError>
  if (typeof e?.type !== 'string') return err
  // raw-body's 500s for a stream something else already read or set an encoding on are
  // developer errors, passed on as body-parser passes them (the read path files them as
  // undecodable bodies).
  const cause = e.cause as { type?: unknown } | undefined
  if (typeof cause?.type === 'string' && cause.type.startsWith('stream.')) return cause
  const message =
    e.type === 'entity.encoding.invalid' && e.cause instanceof Error
      ? e.cause.message
      : readMessages[e.type]
  if (message === undefined) return err
  const { limit, length, received, expected } = e
  const props: BodyErrorProps = { cause: e.cause }
  if (limit !== undefined) props.limit = limit
  if (length !== undefined) props.length = length
  if (received !== undefined) props.received = received
  if (expected !== undefined) props.expected = expected
  return parserError(e.type, message, e.detail ?? message, props)
}
