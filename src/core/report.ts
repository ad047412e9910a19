import type { IncomingMessage } from 'node:http'
import { type BodyError, type BodyErrorType, isBodyError } from '../errors.js'
import { bindFormat, type DecodeContext, type Format, formats } from '../decoders/formats.js'
import {
  type IntegrityPolicy,
  readSignature,
  type SignatureClaim,
  verifySignature,
} from './integrity.js'
import { type FormatTable, formatTable, negotiate } from './negotiate.js'
import type { RoutePolicy } from './options.js'
import { absentBody, type CompiledRoute, noBody, planBody, validateBody } from './route.js'
import { hasBody } from './read.js'

/**
 * The refusals report mode turns into reports: they come from the route's policy (which
 * schema, which formats, whether a body is required), not from danger in the body. Every
 * other refusal (malformed, forbidden key, limits, encoding, charset, signature) stands.
 */
export const relaxedInReport: ReadonlySet<BodyErrorType> = new Set<BodyErrorType>([
  'entity.validation.failed',
  'route.schema.missing',
  'content.type.unsupported',
  'entity.missing',
])

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

/** The signature a request claims and the check it must pass. */
export interface SignatureCheck {
  readonly claim: SignatureClaim
  readonly integrity: IntegrityPolicy
}

/** Everything decided from the headers: how to read, decode and validate, or not. */
export interface BodyPlan {
  readonly format: Format | typeof noBody | typeof unread
  readonly policy: RoutePolicy
  /** The limits (and message type) the decoder is given. */
  readonly context: DecodeContext
  /** Undefined on an unbound route: nothing to validate against. */
  readonly route: CompiledRoute | undefined
  readonly signature: SignatureCheck | null
}

/** Records a refusal that report mode let through. */
export type Reporter = (err: BodyError) => void

/**
 * The headers stage, in either mode. First the signature headers (refused in every mode),
 * then `planBody`. In report mode a refusal of the route's policy is reported and the body
 * is planned anyway: absent, or decoded by Content-Type from every known format with the
 * route's limits, or, when no format knows the type, passed on unread (except on a route
 * that checks signatures: a body left unread cannot be verified, so it is refused).
 */
export function planRequest(
  req: IncomingMessage,
  route: CompiledRoute | undefined,
  fallback: Fallback,
  report: Reporter,
): BodyPlan {
  const policy = route?.policy ?? fallback.policy
  const context = route?.context ?? fallback.context
  // An unbound route's body is refused unread in enforce mode; only report mode reads it.
  const checked = route !== undefined || (policy.mode === 'report' && hasBody(req))
  const integrity = checked ? policy.integrity : null
  const signature = integrity === null ? null : { claim: readSignature(req, integrity), integrity }
  const plan = (format: BodyPlan['format']): BodyPlan => ({
    format,
    policy,
    context,
    route,
    signature,
  })
  try {
    return plan(planBody(req, route))
  } catch (err) {
    if (!relaxed(err, policy)) throw err
    const found =
      err.type === 'entity.missing' ? noBody : anyFormat(req.headers['content-type'], fallback)
    // Report mode's detour, so binding the decoder to this route's limits per request is fine.
    const format = typeof found === 'symbol' ? found : bindFormat(found, context)
    if (format === unread && signature !== null) throw err
    report(err)
    return plan(format)
  }
}

/**
 * After the read: verify the signature over the bytes as read (inflated), then decode and
 * guard (refused in every mode), then validate (reported in report mode). Returns the value
 * for `req.body`, or `noBody`.
 */
export function settleBody(bytes: Buffer, plan: BodyPlan, format: Format, report: Reporter) {
  if (plan.signature) verifySignature(plan.signature.claim, bytes, plan.signature.integrity)
  if (bytes.length === 0) return absentOrReported(plan, report)
  const value = format.decode(bytes, plan.context)
  if (plan.route === undefined) return value
  try {
    validateBody(value, plan.route)
  } catch (err) {
    if (!relaxed(err, plan.policy)) throw err
    report(err)
  }
  return value
}

/** No body arrived: a signature, if the route checks one, must be over the empty body. */
export function settleNoBody(plan: BodyPlan): void {
  if (plan.signature) {
    verifySignature(plan.signature.claim, Buffer.alloc(0), plan.signature.integrity)
  }
}

function absentOrReported(plan: BodyPlan, report: Reporter): typeof noBody {
  try {
    return absentBody(plan.route)
  } catch (err) {
    if (!relaxed(err, plan.policy)) throw err
    report(err)
    return noBody
  }
}

function anyFormat(header: string | undefined, fallback: Fallback): Format | typeof unread {
  try {
    return negotiate(header, fallback.table)
  } catch {
    return unread
  }
}

function relaxed(err: unknown, policy: RoutePolicy): err is BodyError {
  return policy.mode === 'report' && isBodyError(err) && relaxedInReport.has(err.type)
}
