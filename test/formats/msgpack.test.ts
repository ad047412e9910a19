import { ExtData, encode } from '@msgpack/msgpack'
import { getHeapSpaceStatistics } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { createMsgpackDecoder } from '../../src/decoders/msgpack.js'
import { expectPrototypesUntouched, expectRefusal, frameworks } from '../helpers/app.js'
import { formatApp, post, smallLimits } from './helpers.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const mp = 'application/vnd.msgpack'

describe.each(frameworks)('MessagePack on %s', (_name, express) => {
  const build = (extra: object = {}) =>
    formatApp(express, {
      routes: { 'POST /any': { schema: true, ...smallLimits, ...extra } },
    })

  it('decodes maps, arrays and scalars into what JSON.parse would give', async () => {
    const { app, seen } = build()
    const value = { name: 'Ada', n: [1, -2, 3.5, true, null], nested: { é: 'ü' } }
    const res = await post(app, '/any', mp, Buffer.from(encode(value)))
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([value])
  })

  it.each(['application/msgpack', 'application/x-msgpack', 'application/vnd.msgpack'])(
    'answers to %s',
    async (type) => {
      const { app } = build()
      const res = await post(app, '/any', type, Buffer.from(encode({ a: 1 })))
      expect(res.status).toBe(200)
    },
  )

  it('maps integer map keys to their decimal text, as a JSON object holds them', async () => {
    const { app, seen } = build()
    // { 1: 'a', -2: 'b' } with real integer keys.
    const res = await post(app, '/any', mp, hex('82 01 a1 61 fe a1 62'))
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([{ '1': 'a', '-2': 'b' }])
  })

  it.each([
    ['1.5 (float64)', '81 cb 3ff8000000000000 01'],
    // A whole float would pass for the key "1", and -0.0 for "0", its sign lost.
    ['1.0 (float64)', '81 cb 3ff0000000000000 01'],
    ['2.0 (float32)', '81 ca 40000000 01'],
    ['-0.0 (float64)', '81 cb 8000000000000000 01'],
    ['1.0 beside the integer 1', '82 01 a1 61 cb 3ff0000000000000 a1 62'],
  ])('refuses a map key that is a float: %s', async (_name, bytes) => {
    const { app, seen } = build()
    expectRefusal(await post(app, '/any', mp, hex(bytes)), 400, 'entity.type.unmapped', seen)
  })

  it('maps int64 and uint64 within 2^53 to numbers', async () => {
    const { app, seen } = build()
    const safe = 2n ** 53n - 1n
    const res = await post(
      app,
      '/any',
      mp,
      Buffer.from(encode([safe, -safe, 5n], { useBigInt64: true, forceIntegerToFloat: false })),
    )
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([[Number(safe), -Number(safe), 5]])
  })

  it('refuses integers a number cannot hold exactly rather than rounding them', async () => {
    const { app, seen } = build()
    const res = await post(
      app,
      '/any',
      mp,
      Buffer.from(encode({ id: 2n ** 53n + 1n }, { useBigInt64: true })),
    )
    expectRefusal(res, 400, 'entity.type.unmapped', seen)
    expect(res.body.detail).toContain("`largeIntegers` is 'refuse'")
    const neg = await post(app, '/any', mp, hex('d3 8000000000000001'))
    expectRefusal(neg, 400, 'entity.type.unmapped', seen)
  })

  it('passes integers beyond 2^53 that a number holds exactly', async () => {
    const { app, seen } = build()
    const res = await post(app, '/any', mp, hex('92 cf 1000000000000000 d3 8000000000000000'))
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([[2 ** 60, -(2 ** 63)]])
  })

  it("passes integers beyond 2^53 as decimal strings with largeIntegers: 'string'", async () => {
    const { app, seen } = build({ largeIntegers: 'string' })
    const res = await post(app, '/any', mp, hex('92 cf ffffffffffffffff d3 8000000000000000'))
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([['18446744073709551615', '-9223372036854775808']])
  })

  it('maps bin to base64 text', async () => {
    const { app, seen } = build()
    const res = await post(
      app,
      '/any',
      mp,
      Buffer.from(encode({ data: new Uint8Array([0, 1, 254, 255]) })),
    )
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([{ data: 'AAH+/w==' }])
  })

  it('maps the timestamp extension to ISO 8601 text, keeping nanoseconds', async () => {
    const { app, seen } = build()
    const when = new Date('2024-02-29T12:34:56.789Z')
    const res = await post(app, '/any', mp, Buffer.from(encode([when])))
    expect(res.status).toBe(200)
    // timestamp 96: nanoseconds 1, seconds 1.
    const ns = await post(app, '/any', mp, hex('c7 0c ff 00000001 0000000000000001'))
    expect(ns.status).toBe(200)
    expect(seen.bodies).toEqual([['2024-02-29T12:34:56.789Z'], '1970-01-01T00:00:01.000000001Z'])
  })

  it('refuses a timestamp with nanoseconds out of range', async () => {
    const { app, seen } = build()
    // timestamp 64 with nanoseconds 0x3fffffff (> 999 999 999).
    const res = await post(app, '/any', mp, hex('d7 ff ffffffff 00000000'))
    expectRefusal(res, 400, 'entity.parse.failed', seen)
  })

  it.each([
    ['fixext 1', `d4 ff 00`],
    ['ext 8 of 5 bytes', `c7 05 ff ${'00'.repeat(5)}`],
    // Longer than any timestamp: the same answer, not "an extension type".
    ['ext 8 of 13 bytes', `c7 0d ff ${'00'.repeat(13)}`],
    ['fixext 16', `d8 ff ${'00'.repeat(16)}`],
  ])('refuses a timestamp of a size the extension does not define: %s', async (_name, bytes) => {
    // A timestamp is 4, 8 or 12 bytes.
    const { app, seen } = build()
    const res = await post(app, '/any', mp, hex(bytes))
    expectRefusal(res, 400, 'entity.parse.failed', seen)
    expect(res.body.detail).toBe('A MessagePack timestamp is not valid.')
  })

  it.each([
    // timestamp 96: seconds 2^63 - 1, far past year 9999.
    ['seconds 2^63 - 1', '00000000 7fffffffffffffff'],
    // The last instant a Date holds is 8.64e12 s exactly: 500 ns later is past it.
    ['8.64e12 s and 500 ns', `000001f4 ${(8.64e12).toString(16).padStart(16, '0')}`],
    ['-8.64e12 s less 1 ns', `3b9ac9ff ${(2n ** 64n - 8_640_000_000_001n).toString(16)}`],
  ])('refuses a timestamp outside the range a Date holds: %s', async (_name, bytes) => {
    const { app, seen } = build()
    const res = await post(app, '/any', mp, hex(`c7 0c ff ${bytes}`))
    expectRefusal(res, 400, 'entity.type.unmapped', seen)
  })

  it('maps the first and last instants a Date holds, in ISO 8601 expanded years', async () => {
    const { app, seen } = build()
    const last = (8.64e12).toString(16).padStart(16, '0')
    const first = `${(2n ** 64n - 8_640_000_000_000n).toString(16)}`
    expect((await post(app, '/any', mp, hex(`c7 0c ff 00000000 ${last}`))).status).toBe(200)
    expect((await post(app, '/any', mp, hex(`c7 0c ff 000001f4 ${first}`))).status).toBe(200)
    expect(seen.bodies).toEqual([
      '+275760-09-13T00:00:00.000Z',
      '-271821-04-20T00:00:00.000000500Z',
    ])
  })

  it('refuses every other extension type', async () => {
    const { app, seen } = build()
    const res = await post(
      app,
      '/any',
      mp,
      Buffer.from(encode({ x: new ExtData(5, new Uint8Array([1, 2])) })),
    )
    expectRefusal(res, 400, 'entity.type.unmapped', seen)
    const negative = await post(app, '/any', mp, hex('d4 9c 00'))
    expectRefusal(negative, 400, 'entity.type.unmapped', seen)
    // An ext declaring more bytes than any mapped extension has.
    const big = await post(app, '/any', mp, hex('c9 ffffffff 05'))
    expectRefusal(big, 400, 'entity.type.unmapped', seen)
  })

  it('refuses NaN and infinities', async () => {
    const { app, seen } = build()
    const res = await post(app, '/any', mp, Buffer.from(encode([Number.NaN])))
    expectRefusal(res, 400, 'entity.type.unmapped', seen)
    const inf = await post(app, '/any', mp, Buffer.from(encode({ x: Number.POSITIVE_INFINITY })))
    expectRefusal(inf, 400, 'entity.type.unmapped', seen)
  })

  describe('prototype pollution', () => {
    it('refuses __proto__ as a map key, at any depth', async () => {
      const { app, seen } = build()
      // { "__proto__": { "polluted": 1 } }
      const top = await post(
        app,
        '/any',
        mp,
        hex('81 a9 5f5f70726f746f5f5f 81 a8 706f6c6c75746564 01'),
      )
      expectRefusal(top, 400, 'entity.forbidden.key', seen)
      // [ { "a": { "__proto__": 1 } } ]
      const deep = await post(app, '/any', mp, hex('91 81 a1 61 81 a9 5f5f70726f746f5f5f 01'))
      expectRefusal(deep, 400, 'entity.forbidden.key', seen)
    })

    it('refuses constructor.prototype (which the library accepts)', async () => {
      const { app, seen } = build()
      const body = encode({ a: [{ constructor: { prototype: { polluted: true } } }] })
      const res = await post(app, '/any', mp, Buffer.from(body))
      expectRefusal(res, 400, 'entity.forbidden.key', seen)
    })

    it('refuses __proto__ spelled with an overlong UTF-8 underscore', async () => {
      const { app, seen } = build()
      // "__proto__" with its first "_" as C1 9F: the library would decode it to "_".
      const res = await post(app, '/any', mp, hex('81 aa c19f 5f70726f746f5f5f 01'))
      expectRefusal(res, 400, 'entity.utf8.invalid', seen)
    })
  })

  it('refuses invalid UTF-8 in string values instead of repairing it', async () => {
    const { app, seen } = build()
    const res = await post(app, '/any', mp, hex('92 a3 616263 a3 bfbfbf'))
    expectRefusal(res, 400, 'entity.utf8.invalid', seen)
    const long = Buffer.concat([hex('d9 c8'), Buffer.alloc(199, 0x61), hex('ff')])
    expectRefusal(await post(app, '/any', mp, long), 400, 'entity.utf8.invalid', seen)
  })

  describe('structure bombs', () => {
    it('refuses deeply nested arrays and maps without overflowing', async () => {
      const { app, seen } = build()
      const arrays = Buffer.concat([Buffer.alloc(50_000, 0x91), hex('01')])
      expectRefusal(await post(app, '/any', mp, arrays), 400, 'entity.too.deep', seen)
      const maps = Buffer.concat([Buffer.from('81a161'.repeat(20_000), 'hex'), hex('01')])
      expectRefusal(await post(app, '/any', mp, maps), 400, 'entity.too.deep', seen)
    })

    it('refuses a huge declared array or map size before allocating', async () => {
      const { app, seen } = build()
      expectRefusal(
        await post(app, '/any', mp, hex('dd ffffffff 01')),
        400,
        'entity.too.many.nodes',
        seen,
      )
      expectRefusal(
        await post(app, '/any', mp, hex('df ffffffff a161 01')),
        400,
        'entity.too.many.keys',
        seen,
      )
      expectRefusal(
        await post(app, '/any', mp, hex('db ffffffff 61')),
        400,
        'entity.string.too.long',
        seen,
      )
      expectRefusal(
        await post(app, '/any', mp, hex('c6 ffffffff 00')),
        400,
        'entity.string.too.long',
        seen,
      )
    })

    it('refuses length headers that claim more bytes than the body holds', async () => {
      const { app, seen } = build()
      expectRefusal(
        await post(app, '/any', mp, hex('d9 64 616263')),
        400,
        'entity.parse.failed',
        seen,
      )
      expectRefusal(
        await post(app, '/any', mp, hex('dc 0010 01 02')),
        400,
        'entity.parse.failed',
        seen,
      )
      expectRefusal(await post(app, '/any', mp, hex('c4 20 00')), 400, 'entity.parse.failed', seen)
    })

    it('refuses more values or keys than the limits', async () => {
      const { app, seen } = build()
      const many = encode(Array.from({ length: 40 }, () => Array(40).fill(0)))
      expectRefusal(
        await post(app, '/any', mp, Buffer.from(many)),
        400,
        'entity.too.many.nodes',
        seen,
      )
      const keys = encode(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i])))
      expectRefusal(
        await post(app, '/any', mp, Buffer.from(keys)),
        400,
        'entity.too.many.keys',
        seen,
      )
      const long = encode({ s: 'x'.repeat(201) })
      expectRefusal(
        await post(app, '/any', mp, Buffer.from(long)),
        400,
        'entity.string.too.long',
        seen,
      )
    })
  })

  it('refuses malformed bodies: trailing bytes, truncation, unused type bytes', async () => {
    const { app, seen } = build()
    expectRefusal(await post(app, '/any', mp, hex('01 02')), 400, 'entity.parse.failed', seen)
    expectRefusal(await post(app, '/any', mp, hex('cb 0000')), 400, 'entity.parse.failed', seen)
    expectRefusal(await post(app, '/any', mp, hex('c1')), 400, 'entity.parse.failed', seen)
  })

  it('refuses a body over the byte limit with 413', async () => {
    const { app, seen } = build({ limit: 64 })
    const res = await post(app, '/any', mp, Buffer.from(encode({ s: 'x'.repeat(100) })))
    expectRefusal(res, 413, 'entity.too.large', seen)
  })
})

describe('declared sizes', () => {
  it('refuses an array its bytes cannot hold before the library makes it, however many nodes the limits allow', () => {
    // 5 bytes declaring 10,485,758 values, within the nodes a 10 MB `limit` lets in.
    const decode = createMsgpackDecoder({
      limits: { depth: 8, keys: 1000, nodes: 10_485_760, stringLength: 100_000 },
    })
    // Both large-object spaces, young and old: where an array of millions of slots goes.
    const large = () =>
      getHeapSpaceStatistics()
        .filter((space) => space.space_name.endsWith('large_object_space'))
        .reduce((sum, space) => sum + space.space_used_size, 0)
    const before = large()
    expect(() => decode(hex('dd 009ffffe 01'))).toThrow(
      expect.objectContaining({ status: 400, type: 'entity.parse.failed' }),
    )
    // The library's `new Array(size)` would be 80 MB in the large-object space.
    expect(large() - before).toBeLessThan(1_000_000)
    // A map needs two bytes an entry; a body that holds them is decoded.
    expect(() => decode(hex('de 0003 a161 01 a162'))).toThrow(
      expect.objectContaining({ status: 400, type: 'entity.parse.failed' }),
    )
    expect(decode(hex('93 01 02 03'))).toEqual([1, 2, 3])
    expectPrototypesUntouched()
  })
})

describe('str and bin in one pass', () => {
  it('tells str from bin for every header width', () => {
    const decode = createMsgpackDecoder({
      limits: { depth: 8, keys: 8, nodes: 8, stringLength: 100_000 },
    })
    for (const n of [0, 1, 31, 32, 255, 256, 65_535, 65_536]) {
      const text = 'a'.repeat(n)
      const bytes = new Uint8Array(n).fill(0xa0 | (n & 31))
      expect(decode(Buffer.from(encode([text, bytes])))).toEqual([
        text,
        Buffer.from(bytes).toString('base64'),
      ])
    }
  })

  it('refuses a bin map key, and reads 64-bit integer keys as decimal text', () => {
    const decode = createMsgpackDecoder({
      limits: { depth: 8, keys: 8, nodes: 8, stringLength: 100 },
    })
    // { bin(1): 1 }
    expect(() => decode(hex('81 c4 01 61 01'))).toThrow(
      expect.objectContaining({ type: 'entity.type.unmapped' }),
    )
    // { uint64 2^63: 1 }
    expect(decode(hex('81 cf 8000000000000000 01'))).toEqual({ '9223372036854775808': 1 })
  })
})
