import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FromSchema, JSONSchema } from 'json-schema-to-ts'
import type { RouteBinding } from './core/options.js'
import type { BodySchema } from './core/registry.js'
import type {
  StandardSchemaInput,
  StandardSchemaOutput,
  StandardSchemaV1,
} from './core/standard.js'

/**
 * The body type a schema describes. A Standard Schema (zod, valibot, arktype) gives its
 * output type, after transforms and defaults; a TypeBox schema gives its `Static` type; a
 * JSON Schema written as a `const` object gives json-schema-to-ts's `FromSchema`, with a
 * property that has a `default` and is not `required` optional: ajv fills it in only with
 * `useDefaults`, which the type cannot see; anything the compiler cannot see into (a schema
 * typed as `JsonSchema`, one read from a file) gives `unknown`.
 *
 * @example
 * const user = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const
 * type User = BodyOf<typeof user> // { [x: string]: unknown; name: string }
 * type Order = BodyOf<typeof zodOrder> // z.output<typeof zodOrder>
 */
export type BodyOf<S> = S extends StandardSchemaV1
  ? StandardSchemaOutput<S>
  : S extends TypeBoxSchema
    ? (S & { params: [] })['static']
    : S extends JSONSchema
      ? FromSchema<S, { keepDefaultedPropertiesOptional: true }>
      : unknown

/**
 * The body type a client sends for a schema: a Standard Schema's input type, before its
 * transforms and defaults (zod's `z.input`); for any other schema, `BodyOf` (a JSON Schema
 * property with a `default` that is not `required` is optional in both).
 * Hono's client (`hc`) types a route's `json` with it.
 */
export type InputOf<S> = S extends StandardSchemaV1 ? StandardSchemaInput<S> : BodyOf<S>

/** TypeBox schemas carry their static type in phantom `static` and `params` properties. */
interface TypeBoxSchema {
  readonly static: unknown
  readonly params: unknown[]
}

/**
 * The body types of a record of schemas, for `safeBody<BodiesOf<typeof schemas>>()`, so
 * that `route('user')` types `req.body` from the schema registered as `user`.
 */
export type BodiesOf<Schemas> = { -readonly [K in keyof Schemas]: BodyOf<Schemas[K]> }

/**
 * The middleware `route()` returns. Express infers the next handlers' `req.body` from its
 * `body`, and keeps inferring `req.params` from the path: it is typed against Node's
 * request rather than Express's, so it fits Express 4 and 5 and imports neither.
 */
export type TypedBodyHandler<Body> = (
  req: IncomingMessage & { body: Body },
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void

/** A binding whose schema may be a Standard Schema, a TypeBox or a `const` schema object. */
export type TypedBinding = Omit<RouteBinding, 'schema'> & { readonly schema: string | BodySchema }

/**
 * A binding `route()` takes: `B` with no key a binding does not have, so that a misspelt
 * setting (`maxDept`) is a type error, as it is inside `routes`, not only at start-up.
 */
export type OnlyBinding<B> = B & { readonly [K in Exclude<keyof B, keyof TypedBinding>]: never }

/** The body a schema id stands for: its declared type, else `unknown`. */
export type IdBody<Bodies, Id extends string> = Id extends keyof Bodies ? Bodies[Id] : unknown

/** The body a binding accepts; `required: false` lets a request without one through. */
export type BindingBody<Bodies, B extends TypedBinding> =
  | (B['schema'] extends string ? IdBody<Bodies, B['schema']> : BodyOf<B['schema']>)
  | (B extends { readonly required: false } ? undefined : never)

/** What a client sends for a binding: `BindingBody`, with a schema's input type (`InputOf`). */
export type BindingInput<Bodies, B extends TypedBinding> =
  | (B['schema'] extends string ? IdBody<Bodies, B['schema']> : InputOf<B['schema']>)
  | (B extends { readonly required: false } ? undefined : never)
