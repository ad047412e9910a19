export {
  type BodyError,
  type BodyErrorType,
  bodyError,
  catalogue,
  isBodyError,
  type ValidationIssue,
} from './errors.js'
export type { FormatName, LargeIntegers } from './formats.js'
export type { StructureLimits } from './guard.js'
export { guardValue } from './guard.js'
export type {
  IntegrityOptions,
  SignatureAlgorithm,
  SignatureEncoding,
  SignaturePreset,
  SignatureSecret,
} from './integrity.js'
export {
  type BodyHandler,
  type RouteSchemas,
  type SafeBodyMiddleware,
  safeBody,
} from './middleware.js'
export { expressPath, type OpenApiDocument } from './openapi/index.js'
export type {
  LimitOptions,
  RouteBinding,
  RouteSettings,
  SafeBodyMode,
  SafeBodyOptions,
} from './options.js'
export {
  type ProblemDetailsOptions,
  type ProblemDocument,
  problemDetails,
  toProblem,
} from './problem.js'
export type { ProtoSource } from './proto.js'
export type { JsonSchema, SchemaSource, ValidationOptions } from './registry.js'
export { relaxedInReport } from './report.js'
export type { BodiesOf, BodyOf, TypedBinding, TypedBodyHandler } from './typed.js'
export type {
  ViolationAction,
  ViolationCounter,
  ViolationEvent,
  ViolationHandler,
  ViolationIssue,
  ViolationOptions,
  ViolationStats,
} from './violations.js'
