import createError from 'http-errors'

/**
 * The error catalogue: every refusal safebody can make, declared once. A stage throws by
 * `type`; the status, the title and the client-safe message come from here. Types that
 * body-parser also has keep body-parser's string, so apps that switch on `err.type` keep
 * working.
 */
export const catalogue = {
  // read
  'entity.too.large': {
    status: 413,
    title: 'Body too large',
    detail: 'The body is larger than the limit.',
    setting: 'limit',
  },
  'request.size.invalid': {
    status: 400,
    title: 'Body length does not match Content-Length',
    detail: 'The body length does not match Content-Length.',
  },
  'request.aborted': {
    status: 400,
    title: 'Request aborted',
    detail: 'The request was aborted before the body arrived.',
  },
  'request.timeout': {
    status: 408,
    title: 'Body read timed out',
    detail: 'The body did not arrive in time.',
    setting: 'timeout',
  },
  'encoding.unsupported': {
    status: 415,
    title: 'Content-Encoding not allowed',
    detail: 'Send the body uncompressed, or with one Content-Encoding this server inflates.',
  },
  'entity.encoding.invalid': {
    status: 400,
    title: 'Body does not decompress',
    detail: 'The compressed body does not inflate with its Content-Encoding.',
  },
  // verify
  'entity.signature.missing': {
    status: 401,
    title: 'Body signature missing',
    detail: 'This route requires a signed body.',
  },
  'entity.signature.invalid': {
    status: 401,
    title: 'Body signature invalid',
    detail: 'The body signature does not match.',
  },
  'entity.signature.expired': {
    status: 401,
    title: 'Body signature expired',
    detail: 'The signature timestamp is outside the tolerance window.',
    setting: 'integrity.tolerance',
  },
  'entity.signature.replayed': {
    status: 409,
    title: 'Body signature replayed',
    detail: 'This delivery was already received.',
    setting: 'integrity.replay.window',
  },
  'replay.store.unavailable': {
    status: 503,
    title: 'Replay store unavailable',
    detail: 'The delivery could not be checked against earlier ones; send it again later.',
  },
  'entity.verify.failed': {
    status: 403,
    title: 'Body verification failed',
    detail: 'The body failed the verify check.',
  },
  // negotiate
  'content.type.unsupported': {
    status: 415,
    title: 'Content-Type not allowed',
    detail: 'Send a Content-Type this route accepts.',
    setting: 'formats',
  },
  'charset.unsupported': {
    status: 415,
    title: 'Charset not allowed',
    detail: 'Only UTF-8 bodies are accepted: send charset=utf-8 or no charset.',
  },
  'route.schema.missing': {
    status: 415,
    title: 'No body is accepted on this route',
    detail:
      'This route does not accept a request body (no schema is bound to it: in `routes`, an OpenAPI requestBody or `.route()`).',
    setting: 'routes',
  },
  'entity.missing': {
    status: 400,
    title: 'Body required',
    detail: 'This route requires a body.',
    setting: 'required',
  },
  // decode
  'entity.parse.failed': { status: 400, title: 'Malformed body', detail: 'The body is malformed.' },
  'entity.utf8.invalid': {
    status: 400,
    title: 'Body is not valid UTF-8',
    detail: 'The body is not valid UTF-8.',
  },
  'entity.type.unmapped': {
    status: 400,
    title: 'Value has no mapping to the data model',
    detail: 'The body holds a value with no JSON equivalent.',
  },
  'entity.field.unknown': {
    status: 400,
    title: 'Field not in the message type',
    detail: 'The body holds a field its message type does not define.',
  },
  // guard
  'entity.forbidden.key': {
    status: 400,
    title: 'Forbidden key in body',
    detail: 'The body holds a key that could rewrite a prototype.',
  },
  'entity.key.duplicate': {
    status: 400,
    title: 'Duplicate key in body',
    detail: 'An object in the body holds the same key twice.',
    setting: 'duplicateKeys',
  },
  'entity.too.deep': {
    status: 400,
    title: 'Body nested too deeply',
    detail: 'The body is nested too deeply.',
    setting: 'maxDepth',
  },
  'entity.too.many.keys': {
    status: 400,
    title: 'Too many keys in one object',
    detail: 'An object holds too many keys.',
    setting: 'maxKeys',
  },
  'entity.too.many.nodes': {
    status: 400,
    title: 'Body has too many values',
    detail: 'The body holds too many values.',
    setting: 'maxNodes',
  },
  'entity.string.too.long': {
    status: 400,
    title: 'String too long',
    detail: 'A string in the body is too long.',
    setting: 'maxStringLength',
  },
  // body-parser's own urlencoded refusals, used by safebody/body-parser
  'parameters.too.many': {
    status: 413,
    title: 'Too many form parameters',
    detail: 'The form has too many parameters.',
    setting: 'parameterLimit',
  },
  'querystring.parse.rangeError': {
    status: 400,
    title: 'Form nested too deeply',
    detail: 'A form key is nested too deeply.',
    setting: 'depth',
  },
  // validate
  'entity.validation.failed': {
    status: 422,
    title: 'Body does not match the schema',
    detail: 'The body does not match the schema.',
  },
} as const satisfies Record<string, CatalogueEntry>

/** One entry of the catalogue. */
export interface CatalogueEntry {
  readonly status: number
  readonly title: string
  /** What the client should change, when the refusal has nothing more specific to say. */
  readonly detail: string
  /** The option whose value decides this refusal, named in the detail. */
  readonly setting?: string
}

/** A stable error type string from the catalogue. */
export type BodyErrorType = keyof typeof catalogue

/** Longest key a client sees in a path, a message or params: the body chose it, not the schema. */
export const maxKeyLength = 64

/** `text` cut to `max` characters, the last one `…`, when it is longer. */
export function shortened(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/** A key the body chose, as a client may see it: one longer than `maxKeyLength` shortened (`…`). */
export function clientKey(key: string): string {
  return shortened(key, maxKeyLength)
}

/** A client sees at most this many issues: a body of many bad items must not fan out. */
export const maxIssues = 100

/** Longest JSON Pointer a client sees: 100 issues deep in a body stay a small 422. */
export const maxPointerLength = 256

/**
 * A JSON Pointer (a validator's `instancePath`) as a client may see it: each key longer than
 * `maxKeyLength` shortened, so that a 90 000-character key does not come back whole in a 422,
 * and the whole cut to `maxPointerLength` (`…`), so that a deep path does not either.
 */
export function clientPointer(pointer: string): string {
  if (pointer.length <= maxKeyLength) return pointer
  const short = pointer
    .split('/')
    .map((segment) =>
      // A cut escape (`~0`, `~1`) is dropped with the rest.
      segment.length > maxKeyLength ? clientKey(segment).replace(/~…$/, '…') : segment,
    )
    .join('/')
  return shortened(short, maxPointerLength).replace(/~…$/, '…')
}

/** One ajv error as handed to clients: where, which keyword, and what. */
export interface ValidationIssue {
  instancePath: string
  keyword: string
  message: string
  params?: Record<string, unknown>
}

/**
 * The error safebody passes to `next(err)`: an http-errors HttpError with a catalogued `type`.
 * Its HttpError fields are spelled out here, so that the published types need no
 * `@types/http-errors` (http-errors ships none).
 */
export interface BodyError extends Error {
  /** The HTTP status: a 4xx for a refusal, 503 when a replay store is unavailable. */
  status: number
  /** The same as `status`. */
  statusCode: number
  /** True below 500: the message and detail are safe to show the client. */
  expose: boolean
  /** Response headers the error asks for, if any. */
  headers?: { [key: string]: string }
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
export function bodyError(type: BodyErrorType, detail?: string, props?: BodyErrorProps): BodyError {
  const entry: CatalogueEntry = catalogue[type]
  return createError(entry.status, entry.title, {
    type,
    detail: detail ?? entry.detail,
    ...props,
  }) as BodyError
}

/**
 * A refusal decided by a setting: the detail says what was exceeded and names the setting,
 * its value and the route it applies to, so the reader knows what to change
 * ("... (`maxDepth` is 64 on POST /users)").
 */
export function limitError(
  type: BodyErrorType,
  what: string,
  value: number | string,
  route: string | undefined,
  props?: BodyErrorProps,
  /** The option that set `value`, where it is not the one the catalogue names for `type`. */
  setting = (catalogue[type] as CatalogueEntry).setting ?? 'limit',
): BodyError {
  return bodyError(type, `${what} (${settingNote(setting, value, route)}).`, props)
}

/** "`maxDepth` is 64 on POST /users": which setting decided, its value, and where. */
export function settingNote(setting: string, value: number | string, route?: string): string {
  return `\`${setting}\` is ${value}${route === undefined ? '' : ` on ${route}`}`
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
