export {
  type BodyError,
  type BodyErrorType,
  bodyError,
  catalogue,
  isBodyError,
  type ValidationIssue,
} from './errors.js'
export type { FormatName } from './formats.js'
export type { StructureLimits } from './guard.js'
export { guardValue } from './guard.js'
export {
  type BodyHandler,
  type RouteSchemas,
  type SafeBodyMiddleware,
  safeBody,
} from './middleware.js'
export { expressPath, type OpenApiDocument } from './openapi/index.js'
export type { LimitOptions, RouteBinding, SafeBodyOptions } from './options.js'
export {
  type ProblemDetailsOptions,
  type ProblemDocument,
  problemDetails,
  toProblem,
} from './problem.js'
export type { JsonSchema, SchemaSource, ValidationOptions } from './registry.js'
export type { BodiesOf, BodyOf, TypedBinding, TypedBodyHandler } from './typed.js'
