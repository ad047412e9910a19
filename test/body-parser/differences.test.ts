import zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import ours from '../../src/body-parser/index.js'
import { expectPrototypesUntouched, frameworks } from '../helpers/app.js'
import { both, parserApp, send, serve } from './harness.js'

// Where safebody/body-parser deliberately differs from body-parser (docs/BODY-PARSER.md):
// each test shows body-parser's outcome next to ours.

const json = { 'Content-Type': 'application/json' }
const form = { 'Content-Type': 'application/x-www-form-urlencoded' }

describe.each(frameworks)('deliberate differences from body-parser (%s)', (_name, express) => {
  it.each([
    '{"__proto__":{"admin":true}}',
    '{"a":{"__proto__":{"admin":true}}}',
    '{"\\u005f_proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"admin":true}}}',
    '[{"x":{"constructor":{"prototype":{}}}}]',
  ])(
    'json: refuses %s with 400 entity.forbidden.key (body-parser hands it to the app)',
    async (body) => {
      const { theirs, ours: mine } = await both(express, 'json', undefined, { headers: json, body })
      expect(theirs.status).toBe(200)
      expect(mine.status).toBe(400)
      expect(mine.result).toMatchObject({ type: 'entity.forbidden.key', status: 400, expose: true })
      expectPrototypesUntouched()
    },
  )

  it.each([
    ['a[__proto__][x]=1', true],
    ['__proto__[x]=1', true],
    ['a[constructor][prototype][x]=1', true],
    ['__proto__=1', false],
    ['%5F%5Fproto%5F%5F[x]=1', true],
    ['a%5B__proto__%5D=1', true],
    ['a.__proto__=1', true],
    ['[__proto__]=1', false],
    ['ok=1&__proto__[admin]=true', false],
  ])(
    'urlencoded: refuses %s with 400 (extended: %s), body-parser drops it silently',
    async (body, extended) => {
      const { theirs, ours: mine } = await both(
        express,
        'urlencoded',
        { extended },
        { headers: form, body },
      )
      expect(theirs.status).toBe(200)
      expect(mine.status).toBe(400)
      expect(mine.result).toMatchObject({ type: 'entity.forbidden.key' })
      expectPrototypesUntouched()
    },
  )

  it('urlencoded: refuses prototype keys with extended false too', async () => {
    const { ours: mine } = await both(
      express,
      'urlencoded',
      { extended: false },
      {
        headers: form,
        body: '__proto__[x]=1',
      },
    )
    expect(mine.result).toMatchObject({ type: 'entity.forbidden.key' })
  })

  it('json: applies safeBody structure limits (depth 64 by default)', async () => {
    const deep = `${'['.repeat(65)}${']'.repeat(65)}`
    const { theirs, ours: mine } = await both(express, 'json', undefined, {
      headers: json,
      body: deep,
    })
    expect(theirs.status).toBe(200)
    expect(mine.status).toBe(400)
    expect(mine.result).toMatchObject({ type: 'entity.too.deep' })
    const ok = `${'['.repeat(64)}${']'.repeat(64)}`
    expect((await both(express, 'json', undefined, { headers: json, body: ok })).ours.status).toBe(
      200,
    )
  })

  it('json: applies maxKeys, maxNodes and maxStringLength', async () => {
    const keys = await both(
      express,
      'json',
      { maxKeys: 2 },
      { headers: json, body: '{"a":1,"b":2,"c":3}' },
    )
    expect(keys.theirs.status).toBe(200)
    expect(keys.ours.result).toMatchObject({ type: 'entity.too.many.keys' })
    const nodes = await both(express, 'json', { maxNodes: 3 }, { headers: json, body: '[1,2,3]' })
    expect(nodes.ours.result).toMatchObject({ type: 'entity.too.many.nodes' })
    const long = await both(
      express,
      'json',
      { maxStringLength: 3 },
      { headers: json, body: '["abcd"]' },
    )
    expect(long.ours.result).toMatchObject({ type: 'entity.string.too.long' })
  })

  it('errors carry no err.body unless errorBody is set', async () => {
    const app = parserApp(express, ours.json())
    const port = await serve(app)
    const res = await send(port, { headers: json, body: '{"password":"hunter2",' })
    expect(res.status).toBe(400)
    expect(res.result).toMatchObject({ type: 'entity.parse.failed', hasBody: false })
    expect(JSON.stringify(res.result)).not.toContain('hunter2')
    const verifying = await serve(
      parserApp(
        express,
        ours.text({
          verify: () => {
            throw new Error('nope')
          },
        }),
      ),
    )
    const refused = await send(verifying, {
      headers: { 'Content-Type': 'text/plain' },
      body: 'secret',
    })
    expect(refused.result).toMatchObject({ type: 'entity.verify.failed', hasBody: false })
  })

  const zstdCompress = (zlib as { zstdCompressSync?: (b: string) => Buffer }).zstdCompressSync
  it.runIf(zstdCompress !== undefined)(
    'zstd: bytes after the frame are 400 (body-parser, on Node 22 and 24: ignored)',
    async () => {
      const frame = (zstdCompress as (b: string) => Buffer)('{"a":1}')
      const { theirs, ours } = await both(express, 'json', undefined, {
        headers: { ...json, 'Content-Encoding': 'zstd' },
        body: Buffer.concat([frame, Buffer.from('garbage')]),
      })
      expect(theirs.status).toBe(200)
      expect(ours.status).toBe(400)
      expect(ours.result).toMatchObject({ type: 'entity.encoding.invalid' })
    },
  )

  it.each(['json', 'raw'] as const)(
    '%s: a transfer coding besides chunked is 415 (body-parser reads the still-coded bytes)',
    async (parser) => {
      const gzipped = zlib.gzipSync('{"a":1}')
      const body = Buffer.concat([
        Buffer.from(`${gzipped.length.toString(16)}\r\n`),
        gzipped,
        Buffer.from('\r\n0\r\n\r\n'),
      ])
      const headers = {
        'Content-Type': parser === 'json' ? 'application/json' : 'application/octet-stream',
        'Transfer-Encoding': 'gzip, chunked',
      }
      const { theirs, ours: mine } = await both(express, parser, undefined, {
        headers,
        body,
        noLength: true,
      })
      if (parser === 'json') expect(theirs.result).toMatchObject({ type: 'entity.parse.failed' })
      else expect(theirs.status).toBe(200)
      expect(mine.status).toBe(415)
      expect(mine.result).toMatchObject({ type: 'encoding.unsupported', status: 415 })
      expectPrototypesUntouched()
    },
  )

  it.each([
    ['json', 'application/json', 'text/plain'],
    ['json', 'application/json', 'application/json'],
    ['text', 'text/plain', 'application/json'],
    ['raw', 'application/octet-stream', 'application/json'],
  ] as const)(
    '%s: two Content-Type lines (%s first) are 415 (body-parser: the first decides)',
    async (parser, first, second) => {
      const body = '{"a":1}'
      const headers = { 'Content-Type': first, 'content-type': second }
      const { theirs, ours: mine } = await both(express, parser, undefined, { headers, body })
      expect(theirs.status).toBe(200)
      expect(mine.status).toBe(415)
      expect(mine.result).toMatchObject({ type: 'content.type.unsupported', status: 415 })
      expectPrototypesUntouched()
    },
  )

  it.each(['gzip', 'deflate', 'br'])(
    'an empty body with Content-Encoding %s is no body (body-parser: 400 unexpected end of file)',
    async (coding) => {
      const headers = { ...json, 'Content-Encoding': coding } // Content-Length: 0
      const { theirs, ours: mine } = await both(express, 'json', undefined, { headers, body: '' })
      expect(theirs.status, JSON.stringify(theirs.result)).toBe(400)
      expect(mine.status, JSON.stringify(mine.result)).toBe(200)
      expect(mine.result).toMatchObject({ kind: 'object', value: {} })
    },
  )

  it("a body that does not inflate is 400 with a type (body-parser: zlib's error, no type)", async () => {
    const { theirs, ours: mine } = await both(express, 'json', undefined, {
      headers: { ...json, 'Content-Encoding': 'gzip' },
      body: 'not gzip at all',
    })
    expect(theirs.status).toBe(400)
    expect(theirs.result.type).toBeUndefined()
    expect(mine.status).toBe(400)
    expect(mine.result).toMatchObject({
      type: 'entity.encoding.invalid',
      message: theirs.result.message,
    })
  })
})
