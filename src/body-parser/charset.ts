import { isAscii } from 'node:buffer'
import { TextDecoder } from 'node:util'

/**
 * Bytes to text in a declared charset, as body-parser does with iconv-lite: lenient (bad
 * bytes become U+FFFD, as iconv-lite does), a leading BOM dropped for the Unicode
 * encodings. The Unicode encodings and Latin-1 are decoded here with iconv-lite's rules
 * (including its UTF-16/UTF-32 byte-order guess); every other charset goes to the WHATWG
 * TextDecoder, so a charset neither knows is unsupported (415).
 */
type Decoder = (bytes: Buffer) => string

const BOM = '\ufeff'
const stripBom = (text: string) => (text.startsWith(BOM) ? text.slice(1) : text)

// ASCII is copied byte for byte, as in the core's decodeUtf8: the same text, cheaper made.
const utf8: Decoder = (b) => (isAscii(b) ? b.toString('latin1') : stripBom(b.toString('utf8')))
const utf16le: Decoder = (b) => stripBom(b.toString('utf16le', 0, b.length & ~1))
const utf16be: Decoder = (b) => {
  const swapped = Buffer.from(b.subarray(0, b.length & ~1))
  return stripBom(swapped.swap16().toString('utf16le'))
}
const utf32 = (littleEndian: boolean): Decoder => {
  return (b) => {
    let out = ''
    for (let i = 0; i + 3 < b.length; i += 4) {
      const cp = littleEndian ? b.readInt32LE(i) : b.readInt32BE(i)
      out += cp < 0 || cp > 0x10ffff ? '\ufffd' : codePoint(cp)
    }
    if (b.length % 4 !== 0) out += '\ufffd'
    return stripBom(out)
  }
}
const utf32le = utf32(true)
const utf32be = utf32(false)

// String.fromCodePoint refuses lone surrogates; iconv-lite writes them as they are.
function codePoint(cp: number): string {
  return cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp)
}

// iconv-lite's guess for "utf-16" without a BOM: count code units that look like ASCII in
// each byte order over the first 100, default little-endian.
const utf16auto: Decoder = (b) => {
  if (b[0] === 0xff && b[1] === 0xfe) return utf16le(b)
  if (b[0] === 0xfe && b[1] === 0xff) return utf16be(b)
  let le = 0
  let be = 0
  for (let i = 0; i + 1 < Math.min(b.length, 200); i += 2) {
    if (b[i] === 0 && b[i + 1] !== 0) be++
    if (b[i] !== 0 && b[i + 1] === 0) le++
  }
  return be > le ? utf16be(b) : utf16le(b)
}

// The same for "utf-32": BOM, else BMP-looking minus impossible code points, per order.
const utf32auto: Decoder = (b) => {
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return utf32le(b)
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return utf32be(b)
  let scoreLe = 0
  let scoreBe = 0
  for (let i = 0; i + 3 < Math.min(b.length, 400); i += 4) {
    const [b0, b1, b2, b3] = [b[i] as number, b[i + 1] as number, b[i + 2] as number, b[i + 3]]
    if (b0 !== 0 || b1 > 0x10) scoreBe--
    if (b3 !== 0 || b2 > 0x10) scoreLe--
    if (b0 === 0 && b1 === 0 && (b2 !== 0 || b3 !== 0)) scoreBe++
    if ((b0 !== 0 || b1 !== 0) && b2 === 0 && b3 === 0) scoreLe++
  }
  return scoreBe > scoreLe ? utf32be(b) : utf32le(b)
}

const latin1: Decoder = (b) => b.toString('latin1')

// iconv-lite's ASCII: bytes above 0x7F are not ASCII and become U+FFFD (Node's own 'ascii'
// would clear their high bit instead).
const ascii: Decoder = (b) => {
  const text = b.toString('latin1')
  return /[\x80-\xff]/.test(text) ? text.replace(/[\x80-\xff]/g, '\ufffd') : text
}

// Windows-1252 is Latin-1 but for 0x80-0x9F; the five bytes it leaves undefined become
// U+FFFD as in iconv-lite. Decoded here, not by TextDecoder, which on some Node 20 releases
// drops every byte above 0x7F from this encoding.
const cp1252High = '€\ufffd‚ƒ„…†‡ˆ‰Š‹Œ\ufffdŽ\ufffd\ufffd‘’“”•–—˜™š›œ\ufffdžŸ'
const windows1252: Decoder = (b) => {
  const text = b.toString('latin1')
  return /[\x80-\x9f]/.test(text)
    ? text.replace(/[\x80-\x9f]/g, (c) => cp1252High[c.charCodeAt(0) - 0x80] as string)
    : text
}

// iconv-lite's names, canonicalised as it does (lower case, alphanumerics only).
const native: Readonly<Record<string, Decoder>> = {
  utf8,
  unicode11utf8: utf8,
  ucs2: utf16le,
  utf16le,
  utf16be,
  utf16: utf16auto,
  utf32le,
  ucs4le: utf32le,
  utf32be,
  ucs4be: utf32be,
  utf32: utf32auto,
  ucs4: utf32auto,
  latin1,
  binary: latin1,
  iso88591: latin1,
  l1: latin1,
  cp819: latin1,
  ibm819: latin1,
  isoir100: latin1,
  csisolatin1: latin1,
  cp28591: latin1,
  '28591': latin1,
  ascii,
  usascii: ascii,
  csascii: ascii,
  cp367: ascii,
  ibm367: ascii,
  isoir6: ascii,
  iso646us: ascii,
  us: ascii,
  windows1252,
  win1252: windows1252,
  cp1252: windows1252,
  '1252': windows1252,
}

// Labels the client sends, bounded: a client can send endless spellings. What is expensive
// to build (a TextDecoder and its 256-entry table) is kept per WHATWG encoding name, a fixed
// set of about forty, so a full label cache never makes a request rebuild one.
const byLabel = new Map<string, Decoder | null>()
const byEncoding = new Map<string, Decoder | null>()

/** The decoder for a charset label, or null when it is not supported. */
export function charsetDecoder(charset: string): Decoder | null {
  const label = charset.toLowerCase()
  let decoder = byLabel.get(label)
  if (decoder !== undefined) return decoder
  const canonical = label.replace(/:\d{4}$|[^0-9a-z]/g, '')
  decoder = native[canonical] ?? whatwgDecoder(label)
  if (byLabel.size < 64) byLabel.set(label, decoder)
  return decoder
}

function whatwgDecoder(label: string): Decoder | null {
  let encoding: string
  try {
    encoding = new TextDecoder(label).encoding
  } catch {
    return null
  }
  let decoder = byEncoding.get(encoding)
  if (decoder === undefined) {
    decoder = buildDecoder(new TextDecoder(encoding))
    byEncoding.set(encoding, decoder)
  }
  return decoder
}

function buildDecoder(decoder: TextDecoder): Decoder | null {
  // WHATWG's catch-all encodings have no iconv-lite counterpart.
  if (decoder.encoding === 'replacement' || decoder.encoding === 'x-user-defined') return null
  if (decoder.encoding === 'windows-1252') return windows1252
  if (singleByte.has(decoder.encoding)) return tableDecoder(decoder)
  return (b) => decoder.decode(b)
}

// WHATWG's single-byte encodings. Node's TextDecoder silently drops a byte its ICU table
// does not map, where iconv-lite gives U+FFFD; a 256-entry table built once fixes that.
const singleByte = new Set([
  'ibm866',
  'koi8-r',
  'koi8-u',
  'macintosh',
  'windows-874',
  'x-mac-cyrillic',
  ...[2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16].map((n) => `iso-8859-${n}`),
  'iso-8859-8-i',
  ...[1250, 1251, 1253, 1254, 1255, 1256, 1257, 1258].map((n) => `windows-${n}`),
])

// Node 24's ICU follows WHATWG's KOI8-U, with ў and Ў at 0xAE and 0xBE; RFC 2319,
// iconv-lite (so body-parser) and Node 20 and 22 have box drawings there. Pinned to those,
// so a body decodes the same on every Node line, and as body-parser decodes it.
const pinned: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  'koi8-u': { 0xae: '╝', 0xbe: '╬' },
}

function tableDecoder(decoder: TextDecoder): Decoder {
  const table: string[] = []
  const pins = pinned[decoder.encoding] ?? {}
  for (let byte = 0; byte < 256; byte++) {
    table.push(pins[byte] ?? (decoder.decode(Uint8Array.of(byte)) || '\ufffd'))
  }
  return (b) => {
    let out = ''
    for (const byte of b) out += table[byte]
    return out
  }
}
