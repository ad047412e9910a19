import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { frameworks } from '../helpers/app.js'
import { type ParserName, type RawRequest, same } from './harness.js'

// What each parser (lib/types/*.js) does with a body, and its charset rules, through
// body-parser 2.4 and through ours.

interface Case {
  title: string
  parser: ParserName
  options?: Record<string, unknown>
  req: RawRequest
  status: number
  type?: string
  value?: unknown
}

const type = (t: string) => ({ 'Content-Type': t })
const json = type('application/json')
const form = type('application/x-www-form-urlencoded')
const utf16le = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')])
const utf16be = (s: string) => Buffer.from(s, 'utf16le').swap16()
const utf32 = (s: string, le: boolean) => {
  const out = Buffer.alloc([...s].length * 4)
  ;[...s].forEach((ch, i) => {
    const cp = ch.codePointAt(0) as number
    if (le) out.writeUInt32LE(cp, i * 4)
    else out.writeUInt32BE(cp, i * 4)
  })
  return out
}

const jsonCases: Case[] = [
  {
    title: 'parses an object',
    parser: 'json',
    req: { headers: json, body: '{"a":[1,true,null,"x"]}' },
    status: 200,
    value: { a: [1, true, null, 'x'] },
  },
  {
    title: 'parses an array',
    parser: 'json',
    req: { headers: json, body: '[1,2]' },
    status: 200,
    value: [1, 2],
  },
  {
    title: 'allows leading whitespace in strict mode',
    parser: 'json',
    req: { headers: json, body: ' \n\t{"a":1}' },
    status: 200,
    value: { a: 1 },
  },
  {
    title: "refuses a primitive in strict mode with JSON.parse's message",
    parser: 'json',
    req: { headers: json, body: 'true' },
    status: 400,
    type: 'entity.parse.failed',
  },
  {
    title: 'refuses a string in strict mode',
    parser: 'json',
    req: { headers: json, body: '  "hello"' },
    status: 400,
    type: 'entity.parse.failed',
  },
  {
    title: 'refuses whitespace only in strict mode',
    parser: 'json',
    req: { headers: json, body: '   ' },
    status: 400,
    type: 'entity.parse.failed',
  },
  {
    title: 'takes a primitive with strict: false',
    parser: 'json',
    options: { strict: false },
    req: { headers: json, body: 'true' },
    status: 200,
    value: true,
  },
  {
    title: 'takes a string with strict: false',
    parser: 'json',
    options: { strict: false },
    req: { headers: json, body: '"hi"' },
    status: 200,
    value: 'hi',
  },
  {
    title: 'refuses malformed JSON with 400',
    parser: 'json',
    req: { headers: json, body: '{"a":}' },
    status: 400,
    type: 'entity.parse.failed',
  },
  {
    title: 'refuses a truncated body with 400',
    parser: 'json',
    req: { headers: json, body: '{"a":[1,' },
    status: 400,
    type: 'entity.parse.failed',
  },
  {
    title: 'refuses malformed JSON after a strict check passes',
    parser: 'json',
    req: { headers: json, body: '[1,,2]' },
    status: 400,
    type: 'entity.parse.failed',
  },
  {
    title: 'refuses malformed JSON with strict: false',
    parser: 'json',
    options: { strict: false },
    req: { headers: json, body: 'tru' },
    status: 400,
    type: 'entity.parse.failed',
  },
  {
    title: 'passes the reviver to JSON.parse',
    parser: 'json',
    options: { reviver: (k: string, v: unknown) => (k === 'n' ? Number(v) * 2 : v) },
    req: { headers: json, body: '{"n":21,"m":{"n":1}}' },
    status: 200,
    value: { n: 42, m: { n: 2 } },
  },
  {
    title: 'passes the reviver on a body the guard walks',
    parser: 'json',
    options: { reviver: (k: string, v: unknown) => (k === 'constructor' ? 'c' : v) },
    req: { headers: json, body: '{"constructor":{"x":1}}' },
    status: 200,
    value: { constructor: 'c' },
  },
  {
    title: 'drops a UTF-8 BOM',
    parser: 'json',
    req: { headers: json, body: '\ufeff{"a":1}' },
    status: 200,
    value: { a: 1 },
  },
  {
    title: 'replaces invalid UTF-8 with U+FFFD, as iconv-lite does',
    parser: 'json',
    req: {
      headers: json,
      body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xc3, 0x22, 0x7d]),
    },
    status: 200,
  },
  {
    title: 'decodes charset=utf-16le (with BOM)',
    parser: 'json',
    req: { headers: type('application/json; charset=utf-16le'), body: utf16le('{"a":"é✓"}') },
    status: 200,
    value: { a: 'é✓' },
  },
  {
    title: 'decodes charset=utf-16be',
    parser: 'json',
    req: { headers: type('application/json; charset=utf-16be'), body: utf16be('{"a":"é"}') },
    status: 200,
    value: { a: 'é' },
  },
  {
    title: 'decodes charset=utf-16 by its BOM',
    parser: 'json',
    req: {
      headers: type('application/json; charset=utf-16'),
      body: Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be('{"a":1}')]),
    },
    status: 200,
    value: { a: 1 },
  },
  {
    title: 'decodes charset=utf-16 without BOM by guessing the byte order',
    parser: 'json',
    req: { headers: type('application/json; charset=utf-16'), body: utf16be('{"abcdefgh":1}') },
    status: 200,
    value: { abcdefgh: 1 },
  },
  {
    title: 'decodes charset=utf-32le',
    parser: 'json',
    req: { headers: type('application/json; charset=utf-32le'), body: utf32('{"a":"😀"}', true) },
    status: 200,
    value: { a: '😀' },
  },
  {
    title: 'decodes charset=utf-32 without BOM',
    parser: 'json',
    req: {
      headers: type('application/json; charset=utf-32'),
      body: utf32('{"abcdefgh":1}', false),
    },
    status: 200,
    value: { abcdefgh: 1 },
  },
  {
    title: 'reads the charset case-insensitively',
    parser: 'json',
    req: { headers: type('application/json; charset=UTF-8'), body: '{"a":1}' },
    status: 200,
    value: { a: 1 },
  },
  {
    title: 'refuses a non-Unicode charset with 415',
    parser: 'json',
    req: { headers: type('application/json; charset=iso-8859-1'), body: '{}' },
    status: 415,
    type: 'charset.unsupported',
  },
  {
    title: 'refuses "utf8" (no dash) with 415, as body-parser does',
    parser: 'json',
    req: { headers: type('application/json; charset=utf8'), body: '{}' },
    status: 415,
    type: 'charset.unsupported',
  },
  {
    title: 'refuses an unknown utf- charset with 415',
    parser: 'json',
    req: { headers: type('application/json; charset=utf-bogus'), body: '{}' },
    status: 415,
    type: 'charset.unsupported',
  },
  {
    title: 'applies defaultCharset when none is given',
    parser: 'json',
    options: { defaultCharset: 'utf-16le' },
    req: { headers: json, body: Buffer.from('{"a":1}', 'utf16le') },
    status: 200,
    value: { a: 1 },
  },
  {
    title: 'refuses a non-Unicode defaultCharset on every body (415)',
    parser: 'json',
    options: { defaultCharset: 'latin1' },
    req: { headers: json, body: '{}' },
    status: 415,
    type: 'charset.unsupported',
  },
  {
    title: 'parses a gzip body with a charset',
    parser: 'json',
    req: {
      headers: { ...type('application/json; charset=utf-16le'), 'Content-Encoding': 'gzip' },
      body: gzipSync(utf16le('{"z":1}')),
    },
    status: 200,
    value: { z: 1 },
  },
]

const formCases: Case[] = [
  {
    title: 'parses flat pairs (extended: false)',
    parser: 'urlencoded',
    req: { headers: form, body: 'a=1&b=x+y&c=%E2%9C%93' },
    status: 200,
    value: { a: '1', b: 'x y', c: '✓' },
  },
  {
    title: 'keeps brackets literal with extended: false',
    parser: 'urlencoded',
    req: { headers: form, body: 'a[b]=1&c[]=2' },
    status: 200,
    value: { 'a[b]': '1', 'c[]': '2' },
  },
  {
    title: 'makes repeated keys an array',
    parser: 'urlencoded',
    req: { headers: form, body: 'a=1&a=2&a=3' },
    status: 200,
    value: { a: ['1', '2', '3'] },
  },
  {
    title: 'gives "" for a key with no value',
    parser: 'urlencoded',
    req: { headers: form, body: 'a&b=' },
    status: 200,
    value: { a: '', b: '' },
  },
  {
    title: 'nests with extended: true',
    parser: 'urlencoded',
    options: { extended: true },
    req: {
      headers: form,
      body: 'user[name]=Ada&user[tags][]=x&user[tags][]=y&list[0]=a&list[1]=b',
    },
    status: 200,
    value: { user: { name: 'Ada', tags: ['x', 'y'] }, list: ['a', 'b'] },
  },
  {
    title: 'turns an index past the array limit into an object key (extended)',
    parser: 'urlencoded',
    options: { extended: true },
    req: { headers: form, body: 'a[150]=x' },
    status: 200,
    value: { a: { 150: 'x' } },
  },
  {
    title: 'keeps keys named like Object.prototype members as own data',
    parser: 'urlencoded',
    options: { extended: true },
    req: { headers: form, body: 'toString=1&hasOwnProperty=2&a[valueOf]=3' },
    status: 200,
    value: { toString: '1', hasOwnProperty: '2', a: { valueOf: '3' } },
  },
  {
    title: 'keeps a plain constructor key',
    parser: 'urlencoded',
    options: { extended: true },
    req: { headers: form, body: 'constructor[name]=x' },
    status: 200,
    value: { constructor: { name: 'x' } },
  },
  {
    title: 'refuses more than 1000 parameters with 413',
    parser: 'urlencoded',
    req: { headers: form, body: Array.from({ length: 1001 }, (_, i) => `k${i}=1`).join('&') },
    status: 413,
    type: 'parameters.too.many',
  },
  {
    title: 'accepts exactly 1000 parameters',
    parser: 'urlencoded',
    req: { headers: form, body: Array.from({ length: 1000 }, (_, i) => `k${i}=1`).join('&') },
    status: 200,
  },
  {
    title: 'applies parameterLimit',
    parser: 'urlencoded',
    options: { parameterLimit: 2 },
    req: { headers: form, body: 'a=1&b=2&c=3' },
    status: 413,
    type: 'parameters.too.many',
  },
  {
    title: 'counts empty parameters toward parameterLimit',
    parser: 'urlencoded',
    options: { parameterLimit: 2 },
    req: { headers: form, body: 'a=1&&' },
    status: 413,
    type: 'parameters.too.many',
  },
  {
    title: 'refuses depth 33 with 400 (extended)',
    parser: 'urlencoded',
    options: { extended: true },
    req: { headers: form, body: `a${'[b]'.repeat(33)}=1` },
    status: 400,
    type: 'querystring.parse.rangeError',
  },
  {
    title: 'accepts depth 32 (extended)',
    parser: 'urlencoded',
    options: { extended: true },
    req: { headers: form, body: `a${'[b]'.repeat(32)}=1` },
    status: 200,
  },
  {
    title: 'applies the depth option',
    parser: 'urlencoded',
    options: { extended: true, depth: 1 },
    req: { headers: form, body: 'a[b][c]=1' },
    status: 400,
    type: 'querystring.parse.rangeError',
  },
  {
    title: 'takes depth 0 as flat keys',
    parser: 'urlencoded',
    options: { extended: true, depth: 0 },
    req: { headers: form, body: 'a[b][c]=1' },
    status: 200,
    value: { 'a[b][c]': '1' },
  },
  {
    title: 'decodes charset=iso-8859-1',
    parser: 'urlencoded',
    req: {
      headers: type('application/x-www-form-urlencoded; charset=iso-8859-1'),
      body: 'a=%E9&b=caf%E9',
    },
    status: 200,
    value: { a: 'é', b: 'café' },
  },
  {
    title: 'applies defaultCharset iso-8859-1',
    parser: 'urlencoded',
    options: { defaultCharset: 'iso-8859-1' },
    req: { headers: form, body: 'a=%E9' },
    status: 200,
    value: { a: 'é' },
  },
  {
    title: 'lets the utf8 sentinel choose the charset (charsetSentinel)',
    parser: 'urlencoded',
    options: { charsetSentinel: true, defaultCharset: 'iso-8859-1' },
    req: { headers: form, body: 'utf8=%E2%9C%93&a=%C3%A9' },
    status: 200,
    value: { a: 'é' },
  },
  {
    title: 'ignores the sentinel without charsetSentinel',
    parser: 'urlencoded',
    req: { headers: form, body: 'utf8=%E2%9C%93&a=1' },
    status: 200,
    value: { utf8: '✓', a: '1' },
  },
  {
    title: 'decodes numeric entities in iso-8859-1 (interpretNumericEntities)',
    parser: 'urlencoded',
    options: { interpretNumericEntities: true, defaultCharset: 'iso-8859-1' },
    req: { headers: form, body: 'a=%26%239786%3B' },
    status: 200,
    value: { a: '☺' },
  },
  {
    title: 'refuses charset=utf-16 with 415',
    parser: 'urlencoded',
    req: { headers: type('application/x-www-form-urlencoded; charset=utf-16'), body: 'a=1' },
    status: 415,
    type: 'charset.unsupported',
  },
  {
    title: 'leaves malformed percent escapes as they are',
    parser: 'urlencoded',
    req: { headers: form, body: 'a=%E0%A4%A&b=%' },
    status: 200,
    value: { a: '%E0%A4%A', b: '%' },
  },
]

const textCases: Case[] = [
  {
    title: 'text: reads UTF-8 text',
    parser: 'text',
    req: { headers: type('text/plain'), body: 'héllo ✓' },
    status: 200,
    value: 'héllo ✓',
  },
  {
    title: 'text: drops a UTF-8 BOM',
    parser: 'text',
    req: { headers: type('text/plain'), body: '\ufeffhi' },
    status: 200,
    value: 'hi',
  },
  {
    title: 'text: decodes iso-8859-1',
    parser: 'text',
    req: {
      headers: type('text/plain; charset=iso-8859-1'),
      body: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x80]),
    },
    status: 200,
  },
  {
    title: 'text: decodes latin1',
    parser: 'text',
    req: { headers: type('text/plain; charset=latin1'), body: Buffer.from([0xe9]) },
    status: 200,
    value: 'é',
  },
  {
    title: 'text: decodes windows-1252',
    parser: 'text',
    req: {
      headers: type('text/plain; charset=windows-1252'),
      body: Buffer.from([0x80, 0x93, 0x94]),
    },
    status: 200,
    value: '€“”',
  },
  {
    title: 'text: decodes koi8-r',
    parser: 'text',
    req: { headers: type('text/plain; charset=koi8-r'), body: Buffer.from([0xf0, 0xd2, 0xc9]) },
    status: 200,
    value: 'При',
  },
  {
    title: 'text: decodes shift_jis',
    parser: 'text',
    req: { headers: type('text/plain; charset=shift_jis'), body: Buffer.from([0x82, 0xa0]) },
    status: 200,
    value: 'あ',
  },
  {
    title: 'text: decodes utf-16le',
    parser: 'text',
    req: { headers: type('text/plain; charset=utf-16le'), body: Buffer.from('hi ✓', 'utf16le') },
    status: 200,
    value: 'hi ✓',
  },
  {
    title: 'text: decodes us-ascii',
    parser: 'text',
    req: { headers: type('text/plain; charset=us-ascii'), body: 'plain' },
    status: 200,
    value: 'plain',
  },
  {
    title: 'text: refuses an unknown charset with 415',
    parser: 'text',
    req: { headers: type('text/plain; charset=bogus'), body: 'x' },
    status: 415,
    type: 'charset.unsupported',
  },
  {
    title: 'text: refuses an unknown charset with 415 when verify is set',
    parser: 'text',
    options: { verify: () => undefined },
    req: { headers: type('text/plain; charset=bogus'), body: 'x' },
    status: 415,
    type: 'charset.unsupported',
  },
  {
    title: 'text: applies defaultCharset',
    parser: 'text',
    options: { defaultCharset: 'iso-8859-1' },
    req: { headers: type('text/plain'), body: Buffer.from([0xe9]) },
    status: 200,
    value: 'é',
  },
  {
    title: 'text: reads other types with type option',
    parser: 'text',
    options: { type: 'text/*' },
    req: { headers: type('text/html'), body: '<p>hi</p>' },
    status: 200,
    value: '<p>hi</p>',
  },
  {
    title: 'raw: gives the bytes as a Buffer',
    parser: 'raw',
    req: { headers: type('application/octet-stream'), body: Buffer.from([0, 1, 0xff]) },
    status: 200,
  },
  {
    title: 'raw: ignores any charset',
    parser: 'raw',
    req: { headers: type('application/octet-stream; charset=bogus'), body: 'x' },
    status: 200,
  },
  {
    title: 'raw: reads other types with type option',
    parser: 'raw',
    options: { type: 'image/*' },
    req: { headers: type('image/png'), body: Buffer.from([0x89, 0x50]) },
    status: 200,
  },
]

describe.each(frameworks)('parsers, same as body-parser (%s)', (_name, express) => {
  it.each([...jsonCases, ...formCases, ...textCases])(
    '$parser: $title',
    async ({ parser, options, req, status, type: errorType, value }) => {
      const { status: got, result } = await same(express, parser, options, req)
      expect(got).toBe(status)
      if (errorType !== undefined) expect(result.type).toBe(errorType)
      if (value !== undefined) expect(result.value).toEqual(value)
    },
  )

  it('json: gives the same message and body for a strict-mode violation', async () => {
    const { result } = await same(express, 'json', undefined, { headers: json, body: ' 12345' })
    expect(result).toMatchObject({ syntaxError: true, body: ' 12345', type: 'entity.parse.failed' })
    expect(result.message).toContain('1')
  })

  it('json: names the charset in a 415', async () => {
    const { result } = await same(express, 'json', undefined, {
      headers: type('application/json; charset=KOI8-R'),
      body: '{}',
    })
    expect(result).toMatchObject({ charset: 'koi8-r', message: 'unsupported charset "KOI8-R"' })
  })
})
