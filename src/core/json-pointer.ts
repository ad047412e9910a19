/** JSON pointers (RFC 6901) as schemas spell them in `$ref` fragments. */

/** The value at a JSON pointer (`/a/b`, spelt as in a URI fragment) in `root`. */
export function atPointer(root: unknown, path: string): unknown {
  let current = root
  for (const raw of path.slice(1).split('/')) {
    const key = unescapePointer(raw)
    if (key === null || (!isRecord(current) && !Array.isArray(current))) return undefined
    if (!Object.hasOwn(current, key)) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

/**
 * One JSON pointer segment from its URI-fragment spelling: percent-decoding, then ~1 and ~0;
 * null when a percent-escape is malformed (`%ZZ`, or bytes that are not UTF-8).
 */
export function unescapePointer(segment: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    return null
  }
  return decoded.replaceAll('~1', '/').replaceAll('~0', '~')
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
