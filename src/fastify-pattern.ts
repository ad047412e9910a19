import type { PathToken } from './core/routes.js'

/**
 * A find-my-way route URL (`/users/:id`, `/:a-:b`, `/:id(^\\d+$)`, `/files/*`, an optional
 * last `/:x?`, `::` for a colon) as path-to-regexp 8 tokens, so that it compares with the
 * keys' patterns: a parameter ends at `/`, `-`, `.` or its regular expression, which only
 * narrows it.
 */
export function fastifyPattern(url: string): PathToken[] {
  const tokens: PathToken[] = []
  let text = ''
  const flush = () => {
    if (text !== '') tokens.push({ type: 'text', value: text })
    text = ''
  }
  for (let i = 0; i < url.length; i++) {
    const char = url[i] as string
    if (char === ':' && url[i + 1] === ':') {
      text += ':'
      i++
    } else if (char === '*') {
      flush()
      tokens.push({ type: 'wildcard', name: '*' })
    } else if (char === ':') {
      let end = i + 1
      while (end < url.length && !'/-.('.includes(url[end] as string)) end++
      const name = url.slice(i + 1, end)
      if (url[end] === '(') end = closingParenthesis(url, end) + 1
      if (name.endsWith('?') && /^\/?$/.test(url.slice(end))) {
        // The optional last parameter: the route with it and the route without it.
        const slash = text.endsWith('/')
        text = slash ? text.slice(0, -1) : text
        flush()
        const param: PathToken = { type: 'param', name: name.slice(0, -1) }
        tokens.push({
          type: 'group',
          tokens: slash ? [{ type: 'text', value: '/' }, param] : [param],
        })
      } else {
        flush()
        tokens.push({ type: 'param', name })
      }
      i = end - 1
    } else {
      text += char
    }
  }
  flush()
  return tokens
}

/** Where the parenthesis opened at `open` closes (escapes and nesting counted). */
function closingParenthesis(url: string, open: number): number {
  let depth = 0
  for (let i = open; i < url.length; i++) {
    const char = url[i]
    if (char === '\\') i++
    else if (char === '(') depth++
    else if (char === ')' && --depth === 0) return i
  }
  return url.length - 1
}
