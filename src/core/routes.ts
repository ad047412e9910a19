import { match } from 'path-to-regexp'

/**
 * A route table keyed like `'POST /users/:id'`: a method, a space, and an Express 5 style
 * path (path-to-regexp 8 syntax). Matching follows Express's defaults: case-insensitive,
 * an optional trailing slash; methods in any case, and a HEAD held to its path's GET binding.
 */
export interface RouteTable<T> {
  find(method: string, path: string): T | undefined
}

interface PatternRoute<T> {
  readonly matches: (path: string) => unknown
  readonly value: T
}

const ROUTE_KEY = /^([A-Za-z]+)\s+(\/\S*)$/

/** Split `'POST /users'` into its method and path, or throw naming the bad key. */
export function parseRouteKey(key: string): { method: string; path: string } {
  const parts = ROUTE_KEY.exec(key.trim())
  if (parts === null) {
    throw new Error(`safebody: route "${key}" must be a method and a path, like "POST /users"`)
  }
  return { method: (parts[1] as string).toUpperCase(), path: parts[2] as string }
}

/** Build the table once; static paths are a map lookup, patterns are tried in order. */
export function routeTable<T>(entries: ReadonlyArray<readonly [string, T]>): RouteTable<T> {
  // By method, then by normalized path: a lookup hashes the path alone (the method is one of
  // the parser's own strings), never a "METHOD path" string built per request.
  const statics = new Map<string, Map<string, T>>()
  const patterns = new Map<string, PatternRoute<T>[]>()
  for (const [key, value] of entries) {
    const { method, path } = parseRouteKey(key)
    if (!/[:*{(]/.test(path)) {
      const paths = statics.get(method) ?? new Map<string, T>()
      const at = normalize(path)
      if (paths.has(at)) throw new Error(`safebody: route "${key}" is bound twice`)
      statics.set(method, paths.set(at, value))
      continue
    }
    let matches: (path: string) => unknown
    try {
      matches = match(path, { sensitive: false, end: true, trailing: true, decode: false })
    } catch (cause) {
      throw new Error(`safebody: route "${key}" is not a valid path: ${String(cause)}`, { cause })
    }
    const list = patterns.get(method) ?? []
    list.push({ matches, value })
    patterns.set(method, list)
  }
  const lookup = (method: string, path: string): T | undefined => {
    const hit = statics.get(method)?.get(normalize(path))
    if (hit !== undefined) return hit
    const list = patterns.get(method)
    if (list === undefined) return undefined
    for (const route of list) if (route.matches(path)) return route.value
    return undefined
  }
  // HEAD is GET without the response body (RFC 9110, 9.3.2): Hono and fastify always hand a
  // HEAD to the GET handler, Express and Koa do when the GET route comes first. So a path's
  // GET binding holds a HEAD, whatever a HEAD key says; a HEAD key binds a path with no GET
  // binding.
  const head = (path: string): T | undefined => {
    const get = lookup('GET', path)
    return get !== undefined ? get : lookup('HEAD', path)
  }
  return {
    find(method, path) {
      if (method === 'HEAD') return head(path)
      const hit = lookup(method, path)
      if (hit !== undefined || statics.has(method) || patterns.has(method)) return hit
      // A method no key names as sent is matched in upper case, as the routers safebody runs
      // under match it (@koa/router and Hono fold it; Node's HTTP/1.1 parser refuses a
      // lower-case method, but HTTP/2 hands `:method` on as sent).
      const upper = method.toUpperCase()
      if (upper === method) return undefined
      return upper === 'HEAD' ? head(path) : lookup(upper, path)
    },
  }
}

function normalize(path: string): string {
  const lower = path.toLowerCase()
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower
}
