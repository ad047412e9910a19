import type { ErrorObject, ValidateFunction } from 'ajv'
import {
  bodyError,
  clientKey,
  clientPointer,
  maxIssues,
  settingNote,
  type ValidationIssue,
} from '../errors.js'
import { bindFormat, type DecodeContext, formats } from '../decoders/formats.js'
import { type FormatTable, formatTable } from './negotiate.js'
import type { RoutePolicy } from './options.js'
import type { ProtoRegistry } from './proto.js'
import type { BodySchema, JsonSchema, SchemaRegistry } from './registry.js'
import { isStandardSchema, standardValidator } from './standard.js'
import { checkRewrites, type RewriteCheck } from './coercion.js'

/** A route's binding compiled for the hot path: its policy, formats and validator. */
export interface CompiledRoute {
  /** How the route was bound: `'POST /users'`, or the schema for a per-route binding. */
  readonly route: string
  /** The schema id, or `'inline'` for a schema object. */
  readonly schema: string
  readonly policy: RoutePolicy
  readonly formats: FormatTable
  readonly context: DecodeContext
  /** The validate stage: the value to hand on, or a promise of it; throws or rejects with 422. */
  readonly validate: BodyValidator
  /**
   * True when the route may wait on a promise (a Standard Schema's `validate`, a replay
   * store): the read is timed from its start, and the wait counts against `timeout`.
   */
  readonly mayDefer: boolean
}

/**
 * A route's validator: takes the decoded value and returns the value to hand on (a validator
 * may transform it), or a `Later` of it; refuses by throwing, or rejecting, a catalogued error.
 */
export type BodyValidator = (value: unknown) => unknown

/** Compile one binding, once, at start-up: its validator, message type and decoders. */
export function compileRoute(
  route: string,
  schema: string | BodySchema,
  policy: RoutePolicy,
  registry: SchemaRegistry,
  proto?: ProtoRegistry,
): CompiledRoute {
  const context: DecodeContext = {
    limits: policy.limits,
    largeIntegers: policy.largeIntegers,
    duplicateKeys: policy.duplicateKeys,
    ...(policy.message === undefined ? {} : { message: messageType(policy.message, proto) }),
  }
  const named = typeof schema === 'string' ? registry.standard(schema) : schema
  const standard = isStandardSchema(named) ? named : undefined
  return {
    route,
    schema: typeof schema === 'string' ? schema : 'inline',
    policy,
    formats: formatTable(
      policy.formats.map((name) => bindFormat(formats[name], context)),
      policy.read.route,
    ),
    context,
    // A Standard Schema validates with its own library; every other schema compiles with ajv.
    validate:
      standard === undefined
        ? ajvValidator(
            registry.validator(schema as string | JsonSchema),
            checkRewrites(registry.rewrites, policy.limits, policy.largeIntegers),
          )
        : standardValidator(standard, typeof schema === 'string' ? schema : 'inline schema'),
    // An asynchronous validator or replay store: the read is timed from its start.
    mayDefer: standard !== undefined || policy.integrity?.replay != null,
  }
}

function messageType(name: string, proto: ProtoRegistry | undefined) {
  if (proto === undefined) {
    throw new Error(
      `safebody: message "${name}" is bound, but no .proto files are loaded (option proto)`,
    )
  }
  return proto.messageType(name)
}

/** The request carries no body: nothing to read, the framework's body stays unset. */
export const noBody = Symbol('safebody.noBody')

/** A route that takes no body was sent one. */
export function unboundRoute(): Error {
  return bodyError('route.schema.missing')
}

/** No body arrived (or an empty one): fine unless the route requires one. */
export function absentBody(route: CompiledRoute | undefined): typeof noBody {
  if (route?.policy.required) {
    const note = settingNote('required', 'true', route.route)
    throw bodyError('entity.missing', `This route requires a body (${note}).`)
  }
  return noBody
}

/** A compiled JSON Schema as the validate stage: 422 with ajv's issues, else the value itself. */
function ajvValidator(validate: ValidateFunction, rewrites: RewriteCheck | null): BodyValidator {
  if (rewrites !== null) {
    return (value) => {
      // ajv writes a coerced value into its parent: for the body itself, this box. Without
      // one it would coerce a copy, pass `"false"` as a boolean and hand on the string.
      const root = { value }
      const context = {
        instancePath: '',
        parentData: root,
        parentDataProperty: 'value',
        rootData: value as Record<string, unknown>,
        dynamicAnchors: {},
      }
      if (rewrites(root, () => validate(value, context))) return root.value
      throw bodyError('entity.validation.failed', undefined, {
        errors: validationIssues(validate.errors),
      })
    }
  }
  return (value) => {
    if (validate(value)) return value
    throw bodyError('entity.validation.failed', undefined, {
      errors: validationIssues(validate.errors),
    })
  }
}

function validationIssues(errors: ErrorObject[] | null | undefined): ValidationIssue[] {
  // With `allErrors`, ajv lists every bad item of a large body.
  return (errors ?? []).slice(0, maxIssues).map((e) => ({
    // A key the schema does not know came from the body: a long one is shortened, in the
    // path and in the params that name it.
    instancePath: clientPointer(e.instancePath),
    keyword: e.keyword,
    message: e.message ?? 'is invalid',
    params: clientParams(e.params),
  }))
}

// ajv's params that name a key of the body (additionalProperties, propertyNames,
// unevaluatedProperties); the others name the schema's own values.
const bodyKeyParams = ['additionalProperty', 'propertyName', 'unevaluatedProperty']

function clientParams(params: Record<string, unknown>): Record<string, unknown> {
  let out = params
  for (const name of bodyKeyParams) {
    const key = params[name]
    if (typeof key === 'string' && clientKey(key) !== key) {
      out = { ...out, [name]: clientKey(key) }
    }
  }
  return out
}
