import type { DecodeContext, Format } from './types.js'

/**
 * A format whose decoder is built once per route (a decoder instance, a resolved message
 * type): `bind` builds it from the route's context at start-up. Called unbound, `decode`
 * builds one for that call.
 */
export function perRouteFormat(
  spec: Omit<Format, 'decode' | 'bind'>,
  create: (context: DecodeContext) => (bytes: Buffer) => unknown,
): Format {
  return {
    ...spec,
    decode: (bytes, context) => create(context)(bytes),
    bind(context) {
      const decode = create(context)
      return { ...spec, decode: (bytes) => decode(bytes) }
    },
  }
}
