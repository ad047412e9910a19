import createError, { type HttpError } from 'http-errors'

/**
 * The error catalogue: every refusal safebody can make, declared once. A stage throws by
 * `type`; the status, the title and the client-safe message come from here. Types that
 * body-parser also has keep body-parser's string, so apps that switch on `err.type` keep
 * working.
 */
export const catalogue = {
  // read
  'entity.too.large': { status: 413, title: 'Body too large' },
  'request.size.invalid': { status: 400, title: 'Body length does not match Content-Length' },
  'request.aborted': { status: 400, title: 'Request aborted' },
  'request.timeout': { status: 408, title: 'Body read timed out' },
  'encoding.unsupported': { status: 415, title: 'Content-Encoding not allowed' },
  'entity.encoding.invalid': { status: 400, title: 'Body does not decompress' },
  // verify
  'entity.signature.missing': { status: 401, title: 'Body signature missing' },
  'entity.signature.invalid': { status: 401, title: 'Body signature invalid' },
  'entity.signature.expired': { status: 401, title: 'Body signature expired' },
  'entity.verify.failed': { status: 403, title: 'Body verification failed' },
  // negotiate
  'content.type.unsupported': { status: 415, title: 'Content-Type not allowed' },
  'charset.unsupported': { status: 415, title: 'Charset not allowed' },
  'route.schema.missing': { status: 415, title: 'No body is accepted on this route' },
  'entity.missing': { status: 400, title: 'Body required' },
  // decode
  'entity.parse.failed': { status: 400, title: 'Malformed body' },
  'entity.utf8.invalid': { status: 400, title: 'Body is not valid UTF-8' },
  'entity.type.unmapped': { status: 400, title: 'Value has no mapping to the data model' },
  'entity.field.unknown': { status: 400, title: 'Field not in the message type' },
  // guard
  'entity.forbidden.key': { status: 400, title: 'Forbidden key in body' },
  'entity.too.deep': { status: 400, title: 'Body nested too deeply' },
  'entity.too.many.keys': { status: 400, title: 'Too many keys in one object' },
  'entity.too.many.nodes': { status: 400, title: 'Body has too many values' },
  'entity.string.too.long': { status: 400, title: 'String too long' },
  // body-parser's own urlencoded refusals, used by safebody/body-parser
  'parameters.too.many': { status: 413, title: 'Too many form parameters' },
  'querystring.parse.rangeError': { status: 400, title: 'Form nested too deeply' },
  // validate
  'entity.validation.failed': { status: 422, title: 'Body does not match the schema' },
} as const satisfies Record<string, { status: number; title: string }>

/** A stable error type string from the catalogue. */
export type BodyErrorType = keyof typeof catalogue

/** One ajv error as handed to clients: where, which keyword, and what. */
export interface ValidationIssue {
  instancePath: string
  keyword: string
  message: string
  params?: Record<string, unknown>
}

/** The error safebody passes to `next(err)`: an http-errors HttpError with a catalogued `type`. */
export interface BodyError extends HttpError {
  type: BodyErrorType
  /** A client-safe explanation; never a copy of the input. */
  detail: string
  /** Schema validation failures (422 only). */
  errors?: ValidationIssue[]
  limit?: number
  length?: number
  received?: number
  expected?: number
  charset?: string
  encoding?: string
}

/** Extra properties a refusal may carry (body-parser's names where it has them). */
export type BodyErrorProps = Partial<
  Pick<BodyError, 'errors' | 'limit' | 'length' | 'received' | 'expected' | 'charset' | 'encoding'>
> & { cause?: unknown }

/**
 * Build the catalogued error for `type`. `detail` must be safe to show a client: say what
 * was wrong in our words, never echo the body or a library's message (JSON.parse quotes
 * its input). The underlying error, if any, goes in `cause`, for logs only.
 */
export function bodyError(type: BodyErrorType, detail: string, props?: BodyErrorProps): BodyError {
  const { status, title } = catalogue[type]
  const err = createError(status, title, { type, detail, ...props }) as BodyError
  return err
}

/** True when `err` is one of ours (a catalogued type), however it was created. */
export function isBodyError(err: unknown): err is BodyError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { type?: unknown }).type === 'string' &&
    Object.hasOwn(catalogue, (err as { type: string }).type) &&
    typeof (err as { status?: unknown }).status === 'number'
  )
}
