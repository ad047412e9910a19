import { describe, expect, it } from 'vitest'
import { decodeUtf8 } from '../../src/core/text.js'

function refusal(bytes: Buffer): [number, string] | undefined {
  try {
    decodeUtf8(bytes)
    return undefined
  } catch (err) {
    const e = err as { status: number; type: string }
    return [e.status, e.type]
  }
}

describe('decodeUtf8', () => {
  it('decodes UTF-8 and drops a UTF-8 BOM', () => {
    expect(decodeUtf8(Buffer.from('{"é":"日本"}'))).toBe('{"é":"日本"}')
    expect(decodeUtf8(Buffer.from('\ufeff{}'))).toBe('{}')
    expect(decodeUtf8(Buffer.alloc(0))).toBe('')
  })

  it.each([
    ['UTF-16LE with BOM', Buffer.from('\ufeff{"a":1}', 'utf16le')],
    ['UTF-16LE without BOM', Buffer.from('{"a":1}', 'utf16le')],
    ['UTF-16BE with BOM', Buffer.from('\ufeff{"a":1}', 'utf16le').swap16()],
    ['UTF-16BE without BOM', Buffer.from('{"a":1}', 'utf16le').swap16()],
    ['UTF-32LE with BOM', Buffer.from([0xff, 0xfe, 0, 0, 0x7b, 0, 0, 0, 0x7d, 0, 0, 0])],
    ['UTF-32BE with BOM', Buffer.from([0, 0, 0xfe, 0xff, 0, 0, 0, 0x7b, 0, 0, 0, 0x7d])],
    ['UTF-32BE without BOM', Buffer.from([0, 0, 0, 0x7b, 0, 0, 0, 0x7d])],
    ['UTF-32LE without BOM', Buffer.from([0x7b, 0, 0, 0, 0x7d, 0, 0, 0])],
    ['one UTF-16LE character', Buffer.from('a', 'utf16le')],
    ['one UTF-16BE character', Buffer.from('a', 'utf16le').swap16()],
  ])('refuses %s with 415', (_name, bytes) => {
    expect(refusal(bytes)).toEqual([415, 'charset.unsupported'])
  })

  it.each([
    ['a NUL between two characters', 'a\u0000b'],
    ['a NUL at the end', 'ab\u0000'],
    ['a NUL first', '\u0000abc'],
    ['a NUL second, then more text', 'a\u0000bc'],
    ['NULs only', '\u0000\u0000\u0000\u0000'],
    ['a lone NUL', '\u0000'],
    ['NULs in the middle of JSON text', '{"a":"\u0000\u0000"}'],
  ])('decodes UTF-8 text with %s: a NUL is text', (_name, text) => {
    expect(decodeUtf8(Buffer.from(text))).toBe(text)
  })

  it.each([
    ['a lone continuation byte', Buffer.from([0x7b, 0x80, 0x7d])],
    ['an overlong encoding', Buffer.from([0x22, 0xc0, 0xaf, 0x22])],
    ['an encoded surrogate', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])],
    ['a truncated sequence', Buffer.from([0x22, 0xe6, 0x97])],
    ['a byte never valid in UTF-8', Buffer.from([0x22, 0xff, 0x22])],
  ])('refuses %s with 400, never replacing it', (_name, bytes) => {
    expect(refusal(bytes)).toEqual([400, 'entity.utf8.invalid'])
  })
})
