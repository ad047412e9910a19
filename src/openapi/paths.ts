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

/**
 * The base paths a `servers` list puts in front of every path: the path of each server URL
 * (`https://api.example.com/v1` -> `/v1`), with server variables set to their defaults.
 * No servers, or servers at the root, give `['']`.
 */
export function basePaths(servers: unknown): string[] {
  if (!Array.isArray(servers) || servers.length === 0) return ['']
  const paths = new Set<string>()
  for (const server of servers as unknown[]) {
    const { url, variables } = (server ?? {}) as { url?: unknown; variables?: unknown }
    if (typeof url !== 'string') throw new Error('safebody: an OpenAPI server has no url')
    const filled = url.replace(/\{([^}]*)\}/g, (_, name: string) => {
      const value = (variables as Record<string, { default?: unknown }> | undefined)?.[name]
      if (typeof value?.default !== 'string') {
        throw new Error(`safebody: OpenAPI server "${url}" has no default for {${name}}`)
      }
      return value.default
    })
    const path = new URL(filled, 'http://server.invalid/').pathname.replace(/\/+$/, '')
    paths.add(path.split('').map(literal).join(''))
  }
  return [...paths]
}
