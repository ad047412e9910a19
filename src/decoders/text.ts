import { guardValue, type StructureLimits } from '../core/guard.js'
import { decodeUtf8 } from '../core/text.js'

/**
 * text/plain: the body as one string, strict UTF-8 (a BOM dropped, invalid bytes a 400,
 * UTF-16/32 a 415), held to the route's maxStringLength like any string.
 */
export function decodeText(bytes: Buffer, limits: StructureLimits): string {
  const text = decodeUtf8(bytes)
  guardValue(text, limits)
  return text
}
