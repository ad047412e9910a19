/** Request headers as Node spells them: lower-case names. */
export type HeaderBag = { readonly [name: string]: string | string[] | undefined }

/** What the request path needs to know of a request besides its body. */
export interface BodyRequest {
  readonly method: string
  /** The path without the query string. */
  readonly path: string
  /** Lower-case header names, as Node spells them. */
  readonly headers: HeaderBag
  /** Node's header lines as sent (name, value, name, value ...), where the server has them. */
  readonly rawHeaders?: readonly string[]
}

/**
 * True when a Node request carries more than one Content-Type line. Node keeps the first in
 * `headers`, where fetch's Headers joins them (`a, b`: no format's type) and a proxy may read
 * the last, so the format a body is decoded as would depend on who reads it. False without
 * header lines (a Web request, a mock without them).
 */
export function repeatsContentType(rawHeaders: readonly string[] | undefined): boolean {
  if (!Array.isArray(rawHeaders)) return false
  let seen = false
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    if (name.length === 12 && isContentType(name)) {
      if (seen) return true
      seen = true
    }
  }
  return false
}

function isContentType(name: string): boolean {
  return name === 'Content-Type' || name === 'content-type' || name.toLowerCase() === 'content-type'
}

/**
 * A request target's path, as Express's `req.path` and Koa's `ctx.path` read it: without the
 * query or a fragment, and an absolute-form target (`http://host/users`, which a client may
 * send and Node keeps in `req.url`) by its path.
 */
export function pathOf(url: string): string {
  const query = url.indexOf('?')
  let path = query === -1 ? url : url.slice(0, query)
  const fragment = path.indexOf('#')
  if (fragment !== -1) path = path.slice(0, fragment)
  if (path.charCodeAt(0) === 0x2f) return path
  // Absolute form: the path starts at the first slash after the authority ('*' stays).
  const authority = path.indexOf('://')
  if (authority === -1) return path
  const slash = path.indexOf('/', authority + 3)
  return slash === -1 ? '/' : path.slice(slash)
}
