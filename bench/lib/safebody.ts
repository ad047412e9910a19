// The safebody pipeline from bytes to validated value, built from the internal stages the
// middleware uses (negotiate, decode + guard, validate), without Express or a socket.
import type { Format } from '../../dist/esm/decoders/formats.js'
import { negotiate } from '../../dist/esm/core/negotiate.js'
import { type LimitOptions, type RouteBinding, routePolicy } from '../../dist/esm/core/options.js'
import { type CompiledRoute, compileRoute } from '../../dist/esm/core/route.js'
import { createRegistry, type JsonSchema } from '../../dist/esm/core/registry.js'

/** After the read, in enforce mode: decode (the decoder guards), then validate. */
export function acceptBody(bytes: Buffer, format: Format, route: CompiledRoute): unknown {
  return route.validate(format.decode(bytes, route.context))
}

/** A route's body handling as one function: Content-Type and bytes in, the value out. */
export type Pipeline = (contentType: string, bytes: Buffer) => unknown

/**
 * Compile a route exactly as `safeBody()` would (same registry, same policy resolution),
 * then run negotiate and acceptBody per call, as the middleware does after reading.
 */
export function safebodyPipeline(
  schema: JsonSchema,
  binding: Omit<RouteBinding, 'schema'>,
  global: LimitOptions = {},
): Pipeline {
  const registry = createRegistry({ bench: schema })
  const policy = routePolicy(global, binding, 'bench route')
  const route = compileRoute('POST /bench', 'bench', policy, registry)
  return (contentType, bytes) => acceptBody(bytes, negotiate(contentType, route.formats), route)
}
