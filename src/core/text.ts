import { isUtf8 } from 'node:buffer'
import { bodyError } from '../errors.js'

/**
 * Turn body bytes into text, strictly UTF-8. A UTF-8 BOM is dropped. UTF-16 and UTF-32 are
 * refused with 415 whatever the label says, recognised by their BOM or by the zero bytes
 * they put in the first four bytes (RFC 4627 §3): decoded as UTF-8 they would hide keys
 * from a check written for UTF-8. Invalid UTF-8 is refused with 400, never replaced with
 * U+FFFD and passed on.
 */
export function decodeUtf8(bytes: Buffer): string {
  if (looksLikeUtf16or32(bytes)) {
    throw bodyError('charset.unsupported', 'Only UTF-8 bodies are accepted.', {
      charset: 'utf-16/utf-32',
    })
  }
  if (!isUtf8(bytes)) {
    throw bodyError('entity.utf8.invalid', 'The body is not valid UTF-8.')
  }
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
  return bytes.toString('utf8', start ? 3 : 0)
}

function looksLikeUtf16or32(b: Buffer): boolean {
  if (b.length < 2) return false
  const [b0, b1] = [b[0], b[1]]
  // BOMs: FE FF (UTF-16BE), FF FE (UTF-16LE, and UTF-32LE's FF FE 00 00).
  if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0xff && b1 === 0xfe)) return true
  // 00 00 FE FF (UTF-32BE BOM), and any text in UTF-16/32 without a BOM: a zero byte in
  // the first two bytes. UTF-8 text starting with U+0000 is refused with them: no format
  // we decode has a use for it.
  return b0 === 0x00 || b1 === 0x00
}
