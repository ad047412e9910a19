export {
  type BodyError,
  type BodyErrorType,
  bodyError,
  catalogue,
  isBodyError,
  type ValidationIssue,
} from './errors.js'
export type { DuplicateKeys, FormatName, LargeIntegers } from './decoders/formats.js'
export type { StructureLimits } from './core/guard.js'
export { guardValue } from './core/guard.js'
export type {
  IntegrityOptions,
  SignatureAlgorithm,
  SignatureEncoding,
  SignaturePreset,
  SignatureSecret,
} from './core/integrity.js'
export {
  type MemoryReplayStoreOptions,
  memoryReplayStore,
  type ReplayOptions,
  type ReplayStore,
  type ReplayStoreFailure,
} from './core/replay.js'
export { type RedisReplayStoreOptions, type RedisSetClient, redisReplayStore } from './redis.js'
export {
  type BodyHandler,
  type RouteSchemas,
  type SafeBodyMiddleware,
  safeBody,
} from './express.js'
export { expressPath, type OpenApiDocument } from './openapi/index.js'
export type {
  LimitOptions,
  RouteBinding,
  RouteSettings,
  SafeBodyMode,
  SafeBodyOptions,
} from './core/options.js'
export {
  type ProblemDetailsOptions,
  type ProblemDocument,
  problemDetails,
  toProblem,
} from './problem.js'
export type {
  PatternChecker,
  PatternDiagnostics,
  RegExpEngine,
  UnsafePatterns,
} from './core/patterns.js'
export type { ProtoSource } from './core/proto.js'
export type { RoutingOptions } from './core/routes.js'
export type { BodySchema, JsonSchema, SchemaSource, ValidationOptions } from './core/registry.js'
export type {
  StandardSchemaIssue,
  StandardSchemaOutput,
  StandardSchemaProps,
  StandardSchemaResult,
  StandardSchemaV1,
} from './core/standard.js'
export { relaxedInReport } from './core/report.js'
export type { BodiesOf, BodyOf, InputOf, TypedBinding, TypedBodyHandler } from './typed.js'
export type {
  ViolationAction,
  ViolationCounter,
  ViolationEvent,
  ViolationHandler,
  ViolationIssue,
  ViolationOptions,
  ViolationStats,
} from './core/violations.js'
