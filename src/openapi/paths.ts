import { isRecord } from '../core/json-pointer.js'

/**
 * An OpenAPI path template as an Express 5 (path-to-regexp 8) path: `/users/{id}` becomes
 * `/users/:id`, a name Express cannot spell bare becomes a quoted one (`{user-id}` ->
 * `:"user-id"`), and literal characters path-to-regexp treats as syntax are escaped
 * (`/models:generate` -> `/models\:generate`). Two parameters with nothing between them
 * (`{a}{b}`) cannot be split by any matcher: they are refused.
 *
 * @example
 * expressPath('/files/{name}.{ext}') // '/files/:name.:ext'
 */
export function expressPath(template: string): string {
  if (!template.startsWith('/')) {
    throw new Error(`safebody: OpenAPI path "${template}" must start with "/"`)
  }
  let out = ''
  let afterParam = false
  for (let i = 0; i < template.length; i++) {
    const char = template[i] as string
    if (char !== '{') {
      if (char === '}') throw badTemplate(template, 'has a "}" with no "{"')
      out += literal(char)
      afterParam = false
      continue
    }
    const end = template.indexOf('}', i)
    const name = end === -1 ? '' : template.slice(i + 1, end)
    if (name === '' || name.includes('{'))
      throw badTemplate(template, 'has an unclosed or empty {}')
    if (afterParam) throw badTemplate(template, 'has two parameters with nothing between them')
    out += /^[A-Za-z_$][\w$]*$/.test(name) ? `:${name}` : `:"${name.replace(/["\\]/g, '\\$&')}"`
    afterParam = true
    i = end
  }
  return out
}

/** Escape one literal path character that path-to-regexp 8 would read as syntax. */
function literal(char: string): string {
  return '{}()[]+?!:*\\'.includes(char) ? `\\${char}` : char
}

function badTemplate(template: string, why: string): Error {
  return new Error(`safebody: OpenAPI path "${template}" ${why}`)
}

/** What a relative server URL is read against. */
const BASE = 'http://server.invalid/'

/** The most base paths one server's variables may spell (their values multiplied). */
const MAX_SERVER_PATHS = 1000

/**
 * The base paths a `servers` list puts in front of every path: the path of each server URL
 * (`https://api.example.com/v1` -> `/v1`), once for each value its path's variables take:
 * each value of a variable's `enum`, as express-openapi-validator binds them, and its
 * `default`. Variables of the host or port take their default (the path is the same). No
 * servers, or servers at the root, give `['']`.
 */
export function basePaths(servers: unknown): string[] {
  if (!Array.isArray(servers) || servers.length === 0) return ['']
  const paths = new Set<string>()
  for (const server of servers as unknown[]) {
    const { url, variables } = (server ?? {}) as { url?: unknown; variables?: unknown }
    if (typeof url !== 'string') throw new Error('safebody: an OpenAPI server has no url')
    for (const path of serverPaths(url, isRecord(variables) ? variables : {})) {
      paths.add(path.split('').map(literal).join(''))
    }
  }
  return [...paths]
}

/** The paths `url` spells with its variables set in every way their values allow. */
function serverPaths(url: string, variables: Record<string, unknown>): string[] {
  const names = [...new Set(Array.from(url.matchAll(/\{([^}]*)\}/g), (m) => m[1] as string))]
  const values = new Map(names.map((name) => [name, valuesOf(url, name, variables)]))
  const defaults = new Map(names.map((name) => [name, (values.get(name) as string[])[0] ?? '']))
  // A variable spells more than one path if its values, the others at their defaults, do
  // (`https://api.example.com{base}` too); one of the host or port does not, and a value that
  // makes no URL there (a port of `${PORT}`) is none of its paths.
  const inPath = names.filter((name) => {
    const spelled = new Set<string>()
    for (const value of values.get(name) as string[]) {
      const probe = fill(url, new Map(defaults).set(name, value))
      if (URL.canParse(probe, BASE)) spelled.add(new URL(probe, BASE).pathname)
    }
    return spelled.size > 1
  })
  let settings = [defaults]
  for (const name of inPath) {
    const each = values.get(name) as string[]
    settings = settings.flatMap((set) => each.map((value) => new Map(set).set(name, value)))
    if (settings.length > MAX_SERVER_PATHS) {
      throw new Error(
        `safebody: OpenAPI server "${url}": its path's variables spell more than ` +
          `${MAX_SERVER_PATHS} paths; list the base paths as servers of their own`,
      )
    }
  }
  return settings.map((set) => pathOf(url, fill(url, set)))
}

function fill(url: string, set: ReadonlyMap<string, string>): string {
  return url.replace(/\{([^}]*)\}/g, (_, name: string) => set.get(name) ?? '')
}

function pathOf(url: string, filled: string): string {
  try {
    return new URL(filled, BASE).pathname.replace(/\/+$/, '')
  } catch (cause) {
    throw new Error(`safebody: OpenAPI server "${url}" is not a URL as "${filled}"`, { cause })
  }
}

/** A variable's values, its default first: `enum`'s strings and the default, each once. */
function valuesOf(url: string, name: string, variables: Record<string, unknown>): string[] {
  const variable = Object.hasOwn(variables, name) ? variables[name] : undefined
  const { default: fallback, enum: listed } = (isRecord(variable) ? variable : {}) as {
    default?: unknown
    enum?: unknown
  }
  if (typeof fallback !== 'string') {
    throw new Error(`safebody: OpenAPI server "${url}" has no default for {${name}}`)
  }
  const values = Array.isArray(listed) ? listed.filter((v) => typeof v === 'string') : []
  return [...new Set([fallback, ...values])]
}
