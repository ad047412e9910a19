import { isRecord } from './document.js'

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

/** The most base paths one server's variables may spell (their values multiplied). */
const MAX_SERVER_PATHS = 1000

/**
 * The base paths a `servers` list puts in front of every path: the path of each server URL
 * (`https://api.example.com/v1` -> `/v1`), once for each value its variables take: each value
 * of a variable's `enum`, as express-openapi-validator binds them, and its `default`. No
 * servers, or servers at the root, give `['']`.
 */
export function basePaths(servers: unknown): string[] {
  if (!Array.isArray(servers) || servers.length === 0) return ['']
  const paths = new Set<string>()
  for (const server of servers as unknown[]) {
    const { url, variables } = (server ?? {}) as { url?: unknown; variables?: unknown }
    if (typeof url !== 'string') throw new Error('safebody: an OpenAPI server has no url')
    for (const filled of spellings(url, isRecord(variables) ? variables : {})) {
      const path = new URL(filled, 'http://server.invalid/').pathname.replace(/\/+$/, '')
      paths.add(path.split('').map(literal).join(''))
    }
  }
  return [...paths]
}

/** `url` with its `{variables}` filled in every way their values allow. */
function spellings(url: string, variables: Record<string, unknown>): string[] {
  let settings = [new Map<string, string>()]
  for (const [, name] of url.matchAll(/\{([^}]*)\}/g)) {
    if (name === undefined || settings[0]?.has(name)) continue
    const values = valuesOf(url, name, Object.hasOwn(variables, name) ? variables[name] : {})
    settings = settings.flatMap((set) => values.map((value) => new Map(set).set(name, value)))
    if (settings.length > MAX_SERVER_PATHS) {
      throw new Error(
        `safebody: OpenAPI server "${url}": its variables' values spell more than ` +
          `${MAX_SERVER_PATHS} URLs; list the base paths as servers of their own`,
      )
    }
  }
  return settings.map((set) =>
    url.replace(/\{([^}]*)\}/g, (_, name: string) => set.get(name) ?? ''),
  )
}

function valuesOf(url: string, name: string, variable: unknown): string[] {
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
