import zlib, { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { frameworks } from '../helpers/app.js'
import { type ParserName, type RawRequest, both, same } from './harness.js'

// Every behaviour of body-parser's shared read path (lib/read.js), run through body-parser
// 2.4 and through ours in the same Express: status, error type, message, documented
// properties and req.body must be the same.

interface Case {
  title: string
  parser: ParserName
  options?: Record<string, unknown>
  req: RawRequest
  status: number
  type?: string
  kind?: string
}

const json = { 'Content-Type': 'application/json' }
const doc = '{"user":{"name":"Ada","tags":["x","y"]},"n":1.5}'

const cases: Case[] = [
  // which requests are parsed, which are passed over
  {
    title: 'parses a matching body',
    parser: 'json',
    req: { headers: json, body: doc },
    status: 200,
    kind: 'object',
  },
  {
    title: 'passes over a request with no body (no Content-Length, no Transfer-Encoding)',
    parser: 'json',
    req: { headers: json },
    status: 200,
    kind: 'undefined',
  },
  {
    title: 'passes over a GET with no body',
    parser: 'json',
    req: { method: 'GET', headers: json },
    status: 200,
    kind: 'undefined',
  },
  {
    title: 'parses a GET that carries a body',
    parser: 'json',
    req: { method: 'GET', headers: json, body: '{"a":1}' },
    status: 200,
    kind: 'object',
  },
  {
    title: 'passes over a body whose Content-Type does not match',
    parser: 'json',
    req: { headers: { 'Content-Type': 'text/plain' }, body: doc },
    status: 200,
    kind: 'undefined',
  },
  {
    title: 'passes over a body with no Content-Type',
    parser: 'json',
    req: { body: doc },
    status: 200,
    kind: 'undefined',
  },
  {
    title: 'passes over a +json type by default',
    parser: 'json',
    req: { headers: { 'Content-Type': 'application/vnd.api+json' }, body: doc },
    status: 200,
    kind: 'undefined',
  },
  {
    title: 'parses a +json type when type says so',
    parser: 'json',
    options: { type: 'application/*+json' },
    req: { headers: { 'Content-Type': 'application/vnd.api+json' }, body: doc },
    status: 200,
    kind: 'object',
  },
  {
    title: 'takes type as an extension name',
    parser: 'json',
    options: { type: 'json' },
    req: { headers: json, body: doc },
    status: 200,
    kind: 'object',
  },
  {
    title: 'takes type as an array',
    parser: 'json',
    options: { type: ['text/plain', 'application/x-json'] },
    req: { headers: { 'Content-Type': 'application/x-json' }, body: doc },
    status: 200,
    kind: 'object',
  },
  {
    title: 'takes type as */*',
    parser: 'text',
    options: { type: '*/*' },
    req: { headers: { 'Content-Type': 'application/xml' }, body: '<a/>' },
    status: 200,
    kind: 'string',
  },
  {
    title: 'takes type as a function (true)',
    parser: 'raw',
    options: { type: () => true },
    req: { body: 'no type at all' },
    status: 200,
    kind: 'buffer',
  },
  {
    title: 'takes type as a function (false)',
    parser: 'raw',
    options: { type: () => false },
    req: { headers: { 'Content-Type': 'application/octet-stream' }, body: 'x' },
    status: 200,
    kind: 'undefined',
  },
  {
    title: 'matches Content-Type case-insensitively, with parameters',
    parser: 'json',
    req: { headers: { 'Content-Type': 'Application/JSON; charset=UTF-8' }, body: doc },
    status: 200,
    kind: 'object',
  },
  {
    title: 'reads a chunked body',
    parser: 'json',
    req: { headers: json, body: doc, chunked: true },
    status: 200,
    kind: 'object',
  },
  // empty bodies
  {
    title: 'json: Content-Length 0 gives {}',
    parser: 'json',
    req: { headers: json, body: '' },
    status: 200,
    kind: 'object',
  },
  {
    title: 'json: an empty chunked body gives {}',
    parser: 'json',
    req: { headers: json, body: '', chunked: true },
    status: 200,
    kind: 'object',
  },
  {
    title: 'urlencoded: Content-Length 0 gives {}',
    parser: 'urlencoded',
    req: { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' },
    status: 200,
    kind: 'object',
  },
  {
    title: 'text: Content-Length 0 gives ""',
    parser: 'text',
    req: { headers: { 'Content-Type': 'text/plain' }, body: '' },
    status: 200,
    kind: 'string',
  },
  {
    title: 'raw: Content-Length 0 gives an empty Buffer',
    parser: 'raw',
    req: { headers: { 'Content-Type': 'application/octet-stream' }, body: '' },
    status: 200,
    kind: 'buffer',
  },
  // Content-Encoding
  {
    title: 'inflates gzip',
    parser: 'json',
    req: { headers: { ...json, 'Content-Encoding': 'gzip' }, body: gzipSync(doc) },
    status: 200,
    kind: 'object',
  },
  {
    title: 'inflates deflate',
    parser: 'json',
    req: { headers: { ...json, 'Content-Encoding': 'deflate' }, body: deflateSync(doc) },
    status: 200,
    kind: 'object',
  },
  {
    title: 'inflates br',
    parser: 'json',
    req: { headers: { ...json, 'Content-Encoding': 'br' }, body: brotliCompressSync(doc) },
    status: 200,
    kind: 'object',
  },
  {
    title: 'reads Content-Encoding case-insensitively',
    parser: 'json',
    req: { headers: { ...json, 'Content-Encoding': 'GZIP' }, body: gzipSync(doc) },
    status: 200,
    kind: 'object',
  },
  {
    title: 'takes identity as no coding',
    parser: 'json',
    req: { headers: { ...json, 'Content-Encoding': 'identity' }, body: doc },
    status: 200,
    kind: 'object',
  },
  {
    title: 'inflates a chunked gzip body',
    parser: 'raw',
    req: {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' },
      body: gzipSync('bytes'),
      chunked: true,
    },
    status: 200,
    kind: 'buffer',
  },
  {
    title: 'refuses an unknown coding with 415',
    parser: 'json',
    req: { headers: { ...json, 'Content-Encoding': 'bogus' }, body: doc },
    status: 415,
    type: 'encoding.unsupported',
  },
  {
    title: 'refuses x-gzip with 415',
    parser: 'json',
    req: { headers: { ...json, 'Content-Encoding': 'x-gzip' }, body: gzipSync(doc) },
    status: 415,
    type: 'encoding.unsupported',
  },
  {
    title: 'refuses stacked codings with 415',
    parser: 'json',
    req: { headers: { ...json, 'Content-Encoding': 'gzip, gzip' }, body: gzipSync(gzipSync(doc)) },
    status: 415,
    type: 'encoding.unsupported',
  },
  {
    title: 'refuses any coding with inflate: false (415)',
    parser: 'json',
    options: { inflate: false },
    req: { headers: { ...json, 'Content-Encoding': 'gzip' }, body: gzipSync(doc) },
    status: 415,
    type: 'encoding.unsupported',
  },
  {
    title: 'reads identity with inflate: false',
    parser: 'json',
    options: { inflate: false },
    req: { headers: { ...json, 'Content-Encoding': 'identity' }, body: doc },
    status: 200,
    kind: 'object',
  },
  {
    title: 'passes over a compressed body of another type without reading it',
    parser: 'json',
    req: { headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'bogus' }, body: 'x' },
    status: 200,
    kind: 'undefined',
  },
  // limit
  {
    title: 'refuses a Content-Length above the limit (413, length/expected/limit)',
    parser: 'json',
    options: { limit: 10 },
    req: { headers: json, body: doc },
    status: 413,
    type: 'entity.too.large',
  },
  {
    title: 'refuses a chunked body above the limit (413, received/limit)',
    parser: 'json',
    options: { limit: 10 },
    req: { headers: json, body: doc, chunked: true },
    status: 413,
    type: 'entity.too.large',
  },
  {
    title: 'takes limit as a bytes string',
    parser: 'text',
    options: { limit: '1kb' },
    req: { headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(1025) },
    status: 413,
    type: 'entity.too.large',
  },
  {
    title: 'accepts a body of exactly the limit',
    parser: 'text',
    options: { limit: '1kb' },
    req: { headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(1024) },
    status: 200,
    kind: 'string',
  },
  {
    title: 'counts the limit after inflation',
    parser: 'raw',
    options: { limit: 100 },
    req: {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' },
      body: gzipSync(Buffer.alloc(101)),
    },
    status: 413,
    type: 'entity.too.large',
  },
  {
    title: 'accepts an inflated body of exactly the limit',
    parser: 'raw',
    options: { limit: 100 },
    req: {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip' },
      body: gzipSync(Buffer.alloc(100)),
    },
    status: 200,
    kind: 'buffer',
  },
  {
    title: 'has a 100kb limit by default',
    parser: 'text',
    req: { headers: { 'Content-Type': 'text/plain' }, body: 'x'.repeat(102401) },
    status: 413,
    type: 'entity.too.large',
  },
  {
    title: 'checks the limit before the charset',
    parser: 'text',
    options: { limit: 1 },
    req: { headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'xx' },
    status: 413,
    type: 'entity.too.large',
  },
]

describe.each(frameworks)('read path, same as body-parser (%s)', (_name, express) => {
  it.each(cases)('$title', async ({ parser, options, req, status, type, kind }) => {
    const { status: got, result } = await same(express, parser, options, req)
    expect(got).toBe(status)
    if (type !== undefined) expect(result.type).toBe(type)
    if (kind !== undefined) expect(result.kind).toBe(kind)
  })

  it('leaves req.body undefined and calls next when it passes a request over', async () => {
    const { result } = await same(express, 'json', undefined, { headers: json })
    expect(result).toEqual({ kind: 'undefined', bodyProp: true })
  })

  it('sets the error properties body-parser documents for a too-large body', async () => {
    const declared = await same(express, 'json', { limit: 10 }, { headers: json, body: doc })
    expect(declared.result).toMatchObject({
      limit: 10,
      length: doc.length,
      expected: doc.length,
      message: 'request entity too large',
    })
    const streamed = await same(
      express,
      'json',
      { limit: 10 },
      { headers: json, body: doc, chunked: true },
    )
    expect(streamed.result).toMatchObject({ limit: 10, received: doc.length })
  })

  it('names the coding in the 415 for an unknown Content-Encoding', async () => {
    const { result } = await same(express, 'json', undefined, {
      headers: { ...json, 'Content-Encoding': 'Bogus' },
      body: doc,
    })
    expect(result).toMatchObject({
      encoding: 'bogus',
      message: 'unsupported content encoding "bogus"',
    })
  })

  // zstd exists from Node 22.15 and 23.8; body-parser inflates it where Node has it.
  const zstdCompress = (zlib as { zstdCompressSync?: (b: Buffer | string) => Buffer })
    .zstdCompressSync

  it.runIf(zstdCompress === undefined)(
    'refuses zstd with 415 where this Node has none',
    async () => {
      const { status, result } = await same(express, 'json', undefined, {
        headers: { ...json, 'Content-Encoding': 'zstd' },
        body: doc,
      })
      expect(status).toBe(415)
      expect(result).toMatchObject({ type: 'encoding.unsupported', encoding: 'zstd' })
    },
  )

  it.runIf(zstdCompress !== undefined)('inflates zstd where this Node has it', async () => {
    const { status } = await same(express, 'json', undefined, {
      headers: { ...json, 'Content-Encoding': 'zstd' },
      body: (zstdCompress as (b: string) => Buffer)(doc),
    })
    expect(status).toBe(200)
  })

  it.runIf(zstdCompress !== undefined)(
    "refuses a body that is not zstd with 400 and zlib's message (difference 6: plus a type)",
    async () => {
      const { theirs, ours } = await both(express, 'json', undefined, {
        headers: { ...json, 'Content-Encoding': 'zstd' },
        body: doc,
      })
      expect(theirs.status).toBe(400)
      expect(ours.status).toBe(400)
      expect(theirs.result.type).toBeUndefined()
      expect(ours.result).toMatchObject({
        type: 'entity.encoding.invalid',
        message: theirs.result.message,
      })
    },
  )
})
