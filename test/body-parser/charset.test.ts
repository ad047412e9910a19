import fc from 'fast-check'
import iconv from 'iconv-lite'
import { describe, expect, it } from 'vitest'
import { charsetDecoder } from '../../src/body-parser/charset.js'

// body-parser decodes with iconv-lite; ours must give the same text for the same bytes.
const charsets = [
  'utf-8',
  'UTF-8',
  'utf-16le',
  'ucs-2',
  'utf-16be',
  'utf-16',
  'utf-32le',
  'utf-32be',
  'utf-32',
  'iso-8859-1',
  'latin1',
  'us-ascii',
  'windows-1252',
  'cp1252',
  'iso-8859-2',
  'iso-8859-15',
  'koi8-r',
  'koi8-u',
  'windows-1256',
  'iso-8859-5',
  'iso-8859-7',
  'iso-8859-8',
]

// Code pages where ICU (behind TextDecoder) and iconv-lite disagree on the few bytes the
// code page leaves undefined (U+FFFD against a C1 control): equal on every printable one.
const legacy = [
  'windows-1250',
  'windows-1251',
  'windows-1253',
  'windows-1255',
  'windows-874',
  'ibm866',
]
const printable = /^[\p{L}\p{N}\p{P}\p{S}\p{Zs}]$/u

describe('charsetDecoder', () => {
  it.each(charsets)('decodes %s as iconv-lite does, for any bytes (property)', (charset) => {
    const decoder = charsetDecoder(charset)
    expect(decoder).not.toBeNull()
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const buf = Buffer.from(bytes)
        expect(decoder?.(buf)).toBe(iconv.decode(buf, charset))
      }),
      { numRuns: 300 },
    )
  })

  it.each(legacy)('decodes every printable byte of %s as iconv-lite does', (charset) => {
    const bytes = Buffer.from(
      Array.from({ length: 256 }, (_, b) => b).filter((b) => {
        const char = iconv.decode(Buffer.of(b), charset)
        return char !== '\ufffd' && printable.test(char)
      }),
    )
    expect(bytes.length).toBeGreaterThan(140)
    expect(charsetDecoder(charset)?.(bytes)).toBe(iconv.decode(bytes, charset))
  })

  it.each([
    ['utf-8', '\ufeffhé'],
    ['utf-16le', '\ufeffhé'],
    ['utf-16be', '\ufeffhé'],
    ['utf-16', '\ufeffhé'],
    ['utf-32', '\ufeffhé😀'],
    ['shift_jis', 'あいう'],
    ['gbk', '中文'],
    ['euc-kr', '한국어'],
    ['big5', '中文'],
  ])('round-trips text iconv-lite encodes in %s', (charset, text) => {
    const bytes = iconv.encode(text, charset)
    expect(charsetDecoder(charset)?.(bytes)).toBe(iconv.decode(bytes, charset))
  })

  it('knows no charset that neither iconv-lite nor WHATWG knows', () => {
    expect(charsetDecoder('bogus')).toBeNull()
    expect(charsetDecoder('utf-bogus')).toBeNull()
    expect(charsetDecoder('iso-2022-kr')).toBeNull()
  })

  it('decodes all 256 bytes of koi8-u as iconv-lite does, on every Node line', () => {
    // Node 24's ICU puts ў and Ў at 0xAE and 0xBE (WHATWG); RFC 2319 and iconv-lite do not.
    const every = Buffer.from(Array.from({ length: 256 }, (_, b) => b))
    expect(charsetDecoder('koi8-u')?.(every)).toBe(iconv.decode(every, 'koi8-u'))
    expect(charsetDecoder('koi8-u')?.(Buffer.of(0xae, 0xbe))).toBe('╝╬')
  })
})

describe('the charset decoder cache', () => {
  it('builds each encoding once, however many labels clients send', () => {
    const koi8 = charsetDecoder('koi8-r')
    expect(koi8).not.toBeNull()
    expect(charsetDecoder('KOI8-R')).toBe(koi8)
    // Fill the bounded label cache with spellings no cache could hold.
    for (let i = 0; i < 200; i++) expect(charsetDecoder(`utf-${i}x`)).toBeNull()
    expect(charsetDecoder('cskoi8r')).toBe(koi8)
    expect(charsetDecoder('Koi8-R')).toBe(koi8)
  })
})
