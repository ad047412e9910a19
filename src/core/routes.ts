import { match, parse, type Token, TokenData } from 'path-to-regexp'

/**
 * How a path is compared with a route key, as the application's router compares it: a body
 * is held to the binding of the route whose handler it reaches, so the two must agree.
 * Express's and Koa's routers fold case and take an optional trailing slash by default;
 * Hono's do neither.
 */
export interface RoutingOptions {
  /** `/Users` and `/users` are different paths (Express's `case sensitive routing`). */
  readonly caseSensitive?: boolean
  /** `/users/` and `/users` are different paths (Express's `strict routing`). */
  readonly strict?: boolean
}

/** Express's defaults, and @koa/router's. */
const EXPRESS_ROUTING: Required<RoutingOptions> = { caseSensitive: false, strict: false }

/** A route pattern as path-to-regexp 8 tokenizes it: text, `:param`, `*wildcard`, `{group}`. */
export type PathToken = Token

/**
 * A route table keyed like `'POST /users/:id'`: a method, a space, and an Express 5 style
 * path (path-to-regexp 8 syntax). Paths compare as `RoutingOptions` say; methods in any
 * case, and a HEAD held to its path's GET binding.
 */
export interface RouteTable<T> {
  /** The binding a request path reaches: a static key before a pattern that also matches. */
  find(method: string, path: string): T | undefined
  /**
   * The binding whose key has this route pattern (parameters and wildcards compared by place,
   * not name: `/users/:userId` is `/users/:id`), for a router that says which route matched.
   */
  byPattern(method: string, pattern: readonly PathToken[]): T | undefined
}

interface PatternRoute<T> {
  readonly matches: (path: string) => unknown
  readonly value: T
}

const ROUTE_KEY = /^([A-Za-z]+)\s+(\/\S*)$/
// A character beyond ASCII: a case-insensitive RegExp (path-to-regexp's) never folds one to
// ASCII, where `toLowerCase` may (the Kelvin sign U+212A is `k`). Paths and keys with one are
// compared by RegExp, never by a folded string.
const BEYOND_ASCII = /[^\0-\x7f]/

/** Split `'POST /users'` into its method and path, or throw naming the bad key. */
export function parseRouteKey(key: string): { method: string; path: string } {
  const parts = ROUTE_KEY.exec(key.trim())
  if (parts === null) {
    throw new Error(`safebody: route "${key}" must be a method and a path, like "POST /users"`)
  }
  return { method: (parts[1] as string).toUpperCase(), path: parts[2] as string }
}

/** Check `routing` (an object of booleans) and fill in Express's defaults. */
export function routingOptions(
  value: unknown,
  defaults: RoutingOptions = EXPRESS_ROUTING,
): Required<RoutingOptions> {
  const given = value ?? {}
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new TypeError('safebody: routing must be an object ({ caseSensitive, strict })')
  }
  const out = { ...EXPRESS_ROUTING, ...defaults }
  for (const [name, setting] of Object.entries(given)) {
    if (name !== 'caseSensitive' && name !== 'strict') {
      throw new TypeError(`safebody: unknown option "${name}" in routing (caseSensitive, strict)`)
    }
    if (typeof setting !== 'boolean') {
      throw new TypeError(`safebody: routing.${name} must be true or false`)
    }
    out[name] = setting
  }
  return out
}

/**
 * Build the table once: static paths are a map lookup, patterns are tried in order, route
 * patterns are a map lookup by shape.
 */
export function routeTable<T>(
  entries: ReadonlyArray<readonly [string, T]>,
  routing: Required<RoutingOptions> = EXPRESS_ROUTING,
): RouteTable<T> {
  const { caseSensitive, strict } = routing
  // By method, then by normalized path: a lookup hashes the path alone (the method is one of
  // the parser's own strings), never a "METHOD path" string built per request.
  const statics = new Map<string, Map<string, T>>()
  // Static keys beyond ASCII where case folds, tried before the patterns.
  const literals = new Map<string, PatternRoute<T>[]>()
  const patterns = new Map<string, PatternRoute<T>[]>()
  const shapes = new Map<string, Map<string, T>>()
  // The key each shape came from, by method: a duplicate's message names the first.
  const keys = new Map<string, { key: string; shape: string }>()
  const unslashed = (at: string): string =>
    !strict && at.length > 1 && at.endsWith('/') ? at.slice(0, -1) : at
  // Only ASCII paths and keys are folded this way (where `toLowerCase` and a RegExp agree).
  const normalize = (path: string): string => unslashed(caseSensitive ? path : path.toLowerCase())
  const shapeOf = (tokens: readonly PathToken[]): string =>
    unslashed(caseSensitive ? shape(tokens) : foldCase(shape(tokens)))
  for (const [key, value] of entries) {
    const { method, path } = parseRouteKey(key)
    let tokens: PathToken[]
    try {
      // Every key is parsed, static ones too: `?`, `+`, `(` and the other characters
      // path-to-regexp 8 reserves are an error in a key, as in an Express 5 route.
      tokens = parse(path).tokens
    } catch (cause) {
      throw new Error(`safebody: route "${key}" is not a valid path: ${String(cause)}`, { cause })
    }
    const byShape = shapes.get(method) ?? new Map<string, T>()
    const at = shapeOf(tokens)
    const exact = shape(tokens)
    const before = keys.get(`${method} ${at}`)
    if (before !== undefined) throw boundTwice(key, before, exact, routing)
    keys.set(`${method} ${at}`, { key, shape: exact })
    shapes.set(method, byShape.set(at, value))
    const text = staticText(tokens)
    const folds = text !== undefined && !caseSensitive && BEYOND_ASCII.test(text)
    if (text !== undefined && !folds) {
      const paths = statics.get(method) ?? new Map<string, T>()
      statics.set(method, paths.set(normalize(text), value))
      continue
    }
    const matches = match(new TokenData(tokens, path), {
      sensitive: caseSensitive,
      end: true,
      trailing: !strict,
      decode: false,
    })
    const into = folds ? literals : patterns
    into.set(method, [...(into.get(method) ?? []), { matches, value }])
  }
  const lookup = (method: string, path: string): T | undefined => {
    if (caseSensitive || !BEYOND_ASCII.test(path)) {
      const hit = statics.get(method)?.get(normalize(path))
      if (hit !== undefined) return hit
    } else {
      const hit = first(literals.get(method), path)
      if (hit !== undefined) return hit
    }
    return first(patterns.get(method), path)
  }
  const byShape = (method: string, at: string): T | undefined => shapes.get(method)?.get(at)
  const known = (method: string): boolean => shapes.has(method)
  return {
    find: (method, path) => byMethod(lookup, known, method, path),
    byPattern: (method, pattern) => byMethod(byShape, known, method, shapeOf(pattern)),
  }
}

/**
 * A key that matches the paths an earlier key matches: only the first could ever be found.
 * The message names the earlier key and, where the routing options made the two alike (a
 * trailing slash, case), the option that tells them apart, for an application whose router
 * does.
 */
function boundTwice(
  key: string,
  before: { key: string; shape: string },
  exact: string,
  routing: Required<RoutingOptions>,
): Error {
  const slashed = (at: string) => at.length > 1 && at.endsWith('/')
  const unslash = (at: string) => (slashed(at) ? at.slice(0, -1) : at)
  const alike: string[] = []
  if (!routing.strict && slashed(exact) !== slashed(before.shape)) {
    alike.push('routing.strict is false: a trailing slash is not told apart')
  }
  // Parameter names are not in a shape: what still differs is case.
  if (!routing.caseSensitive && unslash(exact) !== unslash(before.shape)) {
    alike.push('routing.caseSensitive is false: case is not told apart')
  }
  const why =
    alike.length === 0
      ? ''
      : ` (${alike.join('; ')}; if your router tells them apart, say so in \`routing\`)`
  return new Error(
    `safebody: route "${key}" is bound twice: "${before.key}" matches the same paths${why}`,
  )
}

/** The value of the first route in `list` that matches `path`. */
function first<T>(list: readonly PatternRoute<T>[] | undefined, path: string): T | undefined {
  if (list !== undefined) for (const route of list) if (route.matches(path)) return route.value
  return undefined
}

/**
 * HEAD is GET without the response body (RFC 9110, 9.3.2): Hono and fastify always hand a
 * HEAD to the GET handler, Express and Koa do when the GET route comes first. So a path's GET
 * binding holds a HEAD, whatever a HEAD key says; a HEAD key binds a path with no GET binding.
 * A method no key names as sent is matched in upper case, as the routers safebody runs under
 * match it (@koa/router and Hono fold it; Node's HTTP/1.1 parser refuses a lower-case method,
 * but HTTP/2 hands `:method` on as sent).
 */
function byMethod<T>(
  lookup: (method: string, at: string) => T | undefined,
  known: (method: string) => boolean,
  method: string,
  at: string,
): T | undefined {
  if (method === 'HEAD') return head(lookup, at)
  const hit = lookup(method, at)
  if (hit !== undefined || known(method)) return hit
  const upper = method.toUpperCase()
  if (upper === method) return undefined
  return upper === 'HEAD' ? head(lookup, at) : lookup(upper, at)
}

function head<T>(lookup: (method: string, at: string) => T | undefined, at: string) {
  const get = lookup('GET', at)
  return get !== undefined ? get : lookup('HEAD', at)
}

/** The text of a pattern that has no parameter, wildcard or group; else undefined. */
function staticText(tokens: readonly PathToken[]): string | undefined {
  let text = ''
  for (const token of tokens) {
    if (token.type !== 'text') return undefined
    text += token.value
  }
  return text
}

/**
 * Case folded as a case-insensitive RegExp without the `u` flag folds it (path-to-regexp's):
 * each code unit upper-cased, unless that takes it from beyond ASCII into ASCII (`\u212a`, the
 * Kelvin sign, stays) or into more than one unit. `é` and `É` fold alike, as the RegExp has it.
 */
function foldCase(text: string): string {
  return text.replace(/[a-z]|[^\0-\x7f]/g, (unit) => {
    const upper = unit.toUpperCase()
    return upper.length === 1 && (unit < '\x80' || upper >= '\x80') ? upper : unit
  })
}

/**
 * A pattern's shape: its text, each parameter `:` and each wildcard `*` whatever its name,
 * groups in braces, and the characters those use escaped in the text, so that two patterns
 * have one shape when they match the same paths.
 */
function shape(tokens: readonly PathToken[]): string {
  return tokens
    .map((token) => {
      switch (token.type) {
        case 'text':
          return token.value.replace(/[\\:*{}]/g, '\\$&')
        case 'param':
          return ':'
        case 'wildcard':
          return '*'
        default:
          return `{${shape(token.tokens)}}`
      }
    })
    .join('')
}
