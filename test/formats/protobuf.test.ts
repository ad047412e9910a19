import { describe, expect, it } from 'vitest'
import { expectRefusal, frameworks } from '../helpers/app.js'
import { encodeProto, formatApp, post, smallLimits } from './helpers.js'

const pb = 'application/x-protobuf'
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

/** A varint, for hand-built messages. */
function varint(n: number): Buffer {
  const out: number[] = []
  let v = n
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return Buffer.from(out)
}

/** test.Deep nested `levels` times through field 1, with a leaf string at the bottom. */
function deepMessage(levels: number): Buffer {
  let inner: Buffer = Buffer.concat([hex('12 01'), Buffer.from('x')])
  for (let i = 0; i < levels; i++) inner = Buffer.concat([hex('0a'), varint(inner.length), inner])
  return inner
}

describe.each(frameworks)('protobuf on %s', (_name, express) => {
  const build = (message: string, extra: object = {}) =>
    formatApp(express, {
      routes: { 'POST /any': { schema: true, message, ...smallLimits, ...extra } },
    })

  it.each(['application/x-protobuf', 'application/protobuf', 'application/vnd.google.protobuf'])(
    'answers to %s',
    async (type) => {
      const { app, seen } = build('test.Sample')
      const res = await post(app, '/any', type, encodeProto('test.Sample', { name: 'Ada' }))
      expect(res.status).toBe(200)
      expect(seen.bodies).toEqual([{ name: 'Ada' }])
    },
  )

  it('maps by the proto3 JSON mapping: JSON names, enum names, base64 bytes, no defaults', async () => {
    const { app, seen } = build('test.Kitchen')
    const body = encodeProto('test.Kitchen', {
      big: '42',
      ubig: '7',
      data: Buffer.from([0, 255]),
      color: 'RED',
      firstName: 'Ada',
      zero: 0,
      ratio: 0.25,
      small: -3,
      nested: [{ color: 'GREEN' }],
      children: { kid: { firstName: 'Bo' } },
      byId: { '9007199254740993': 'big key' },
    })
    const res = await post(app, '/any', pb, body)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(seen.bodies).toEqual([
      {
        big: 42,
        ubig: 7,
        data: 'AP8=',
        color: 'RED',
        firstName: 'Ada',
        ratio: 0.25,
        small: -3,
        nested: [{ color: 'GREEN' }],
        children: { kid: { firstName: 'Bo' } },
        byId: { '9007199254740993': 'big key' },
      },
    ])
  })

  // A map entry is a message of its own: an encoder may leave out a key or a value at its
  // default (prost does), and protobufjs then holds that entry in another shape.
  it.each([
    ['a bytes value', '7a 03 0a 01 6b', { blobs: { k: '' } }],
    ['a message value', '4a 03 0a 01 6b', { children: { k: {} } }],
    ['an int64 key', '52 03 12 01 76', { byId: { '0': 'v' } }],
    ['a uint64 key', '82 01 03 12 01 76', { byUnsigned: { '0': 'v' } }],
  ])('maps a map entry that leaves out %s at its default', async (_what, bytes, expected) => {
    const { app, seen } = build('test.Kitchen')
    const res = await post(app, '/any', pb, hex(bytes))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(seen.bodies).toEqual([expected])
  })

  it('keeps a 64-bit key 0 left out apart from the key 48, and refuses it sent both ways', async () => {
    const { app, seen } = build('test.Kitchen')
    // { key left out: "zero" }, { 48: "48" }: two entries, neither lost.
    const apart = hex('52 06 12 04 7a65726f  52 06 08 30 12 02 3438')
    const res = await post(app, '/any', pb, apart)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(seen.bodies).toEqual([{ byId: { '0': 'zero', '48': '48' } }])
    seen.bodies.length = 0
    // The key 0 left out, then given: protobuf keeps the last, which protobufjs does not tell.
    const twice = hex('52 03 12 01 61  52 05 08 00 12 01 62')
    expectRefusal(await post(app, '/any', pb, twice), 400, 'entity.key.duplicate', seen)
  })

  it('keeps the member of a oneof that was set, even at its default', async () => {
    const { app, seen } = build('test.Kitchen')
    const res = await post(app, '/any', pb, encodeProto('test.Kitchen', { email: '' }))
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([{ email: '' }])
  })

  it('keeps optional (explicit presence) fields set to their default', async () => {
    const { app, seen } = build('test.Sample')
    const res = await post(
      app,
      '/any',
      pb,
      encodeProto('test.Sample', { name: '', count: 0, active: false }),
    )
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([{ name: '', count: 0, active: false }])
  })

  it('refuses 64-bit integers a number cannot hold exactly rather than rounding them', async () => {
    const { app, seen } = build('test.Kitchen')
    for (const big of [
      { big: '9007199254740993' },
      { big: '-9007199254740993' },
      { ubig: '18446744073709551615' },
    ]) {
      expectRefusal(
        await post(app, '/any', pb, encodeProto('test.Kitchen', big)),
        400,
        'entity.type.unmapped',
        seen,
      )
    }
    const edge = await post(
      app,
      '/any',
      pb,
      encodeProto('test.Kitchen', { big: '-9007199254740991', ubig: String(2n ** 60n) }),
    )
    expect(edge.status).toBe(200)
    expect(seen.bodies).toEqual([{ big: -9007199254740991, ubig: 2 ** 60 }])
  })

  it("passes them as decimal strings with largeIntegers: 'string'", async () => {
    const { app, seen } = build('test.Kitchen', { largeIntegers: 'string' })
    const body = encodeProto('test.Kitchen', {
      big: '-9223372036854775808',
      ubig: '18446744073709551615',
    })
    const res = await post(app, '/any', pb, body)
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([{ big: '-9223372036854775808', ubig: '18446744073709551615' }])
  })

  it('refuses an unknown field rather than dropping it', async () => {
    const { app, seen } = build('test.Sample')
    const known = encodeProto('test.Sample', { name: 'Ada' })
    // field 99, varint 1
    const res = await post(app, '/any', pb, Buffer.concat([known, hex('98 06 01')]))
    expectRefusal(res, 400, 'entity.field.unknown', seen)
    // an unknown field inside a nested message
    const nested = encodeProto('test.Sample', { inner: { note: 'x' } })
    const innerWithExtra = Buffer.concat([
      hex('32'),
      varint(nested.length - 2 + 3),
      nested.subarray(2),
      hex('98 06 01'),
    ])
    expectRefusal(await post(app, '/any', pb, innerWithExtra), 400, 'entity.field.unknown', seen)
  })

  it('refuses a known field sent with the wrong wire type', async () => {
    const { app, seen } = build('test.Sample')
    // field 1 (name, a string) as a varint
    expectRefusal(await post(app, '/any', pb, hex('08 01')), 400, 'entity.field.unknown', seen)
  })

  it('refuses an enum number the type does not define (open and closed enums)', async () => {
    const { app, seen } = build('test.Kitchen')
    expectRefusal(await post(app, '/any', pb, hex('20 07')), 400, 'entity.type.unmapped', seen)
    const legacy = build('legacy.Old')
    expectRefusal(
      await post(legacy.app, '/any', pb, hex('08 07')),
      400,
      'entity.field.unknown',
      legacy.seen,
    )
    const ok = await post(
      legacy.app,
      '/any',
      pb,
      encodeProto('legacy.Old', { shade: 'LIGHT', box: { label: 'b' } }),
    )
    expect(ok.status).toBe(200)
    expect(legacy.seen.bodies).toEqual([{ shade: 'LIGHT', box: { label: 'b' } }])
  })

  it('refuses NaN and infinities', async () => {
    const { app, seen } = build('test.Kitchen')
    expectRefusal(
      await post(app, '/any', pb, encodeProto('test.Kitchen', { ratio: Number.NaN })),
      400,
      'entity.type.unmapped',
      seen,
    )
  })

  describe('prototype pollution', () => {
    it('refuses __proto__ as a map<string, ...> key (protobufjs makes it an own property)', async () => {
      const { app, seen } = build('test.Sample')
      const labels = JSON.parse('{"__proto__": "polluted"}')
      expectRefusal(
        await post(app, '/any', pb, encodeProto('test.Sample', { labels })),
        400,
        'entity.forbidden.key',
        seen,
      )
      const kitchen = build('test.Kitchen')
      const children = JSON.parse('{"__proto__": {"firstName": "x"}}')
      const res = await post(kitchen.app, '/any', pb, encodeProto('test.Kitchen', { children }))
      expectRefusal(res, 400, 'entity.forbidden.key', kitchen.seen)
    })

    it('refuses constructor.prototype built from a map key and a field', async () => {
      const { app, seen } = build('test.Kitchen')
      const body = encodeProto('test.Kitchen', { holders: { constructor: { prototype: 'x' } } })
      expectRefusal(await post(app, '/any', pb, body), 400, 'entity.forbidden.key', seen)
    })
  })

  describe('structure bombs', () => {
    it('refuses nesting past the depth limit', async () => {
      const { app, seen } = build('test.Deep')
      expectRefusal(await post(app, '/any', pb, deepMessage(20)), 400, 'entity.too.deep', seen)
      const ok = await post(app, '/any', pb, deepMessage(10))
      expect(ok.status).toBe(200)
    })

    it("refuses nesting deep enough to overflow the decoder's stack with 400, not a crash", async () => {
      const { app, seen } = build('test.Deep', { maxDepth: 100_000 })
      expectRefusal(await post(app, '/any', pb, deepMessage(5000)), 400, 'entity.too.deep', seen)
      // Unknown groups nested 50 000 deep: refused at the first unknown field.
      const groups = Buffer.alloc(50_000, 0x7b) // field 15, start group
      expectRefusal(await post(app, '/any', pb, groups), 400, 'entity.field.unknown', seen)
    })

    it('refuses length headers that claim more bytes than the body holds', async () => {
      const { app, seen } = build('test.Sample')
      expectRefusal(
        await post(app, '/any', pb, hex('0a 64 616263')),
        400,
        'entity.parse.failed',
        seen,
      )
      expectRefusal(
        await post(app, '/any', pb, hex('32 ffffffff0f 0a')),
        400,
        'entity.parse.failed',
        seen,
      )
      expectRefusal(await post(app, '/any', pb, hex('2a 05 61')), 400, 'entity.parse.failed', seen)
    })

    it('refuses too many map entries and too long strings', async () => {
      const { app, seen } = build('test.Sample')
      const labels = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, 'v']))
      expectRefusal(
        await post(app, '/any', pb, encodeProto('test.Sample', { labels })),
        400,
        'entity.too.many.keys',
        seen,
      )
      const tags = Array.from({ length: 1001 }, () => 't')
      expectRefusal(
        await post(app, '/any', pb, encodeProto('test.Sample', { tags })),
        400,
        'entity.too.many.nodes',
        seen,
      )
      const long = encodeProto('test.Sample', { name: 'x'.repeat(201) })
      expectRefusal(await post(app, '/any', pb, long), 400, 'entity.string.too.long', seen)
    })
  })

  it('refuses invalid UTF-8 in a proto3 string', async () => {
    const { app, seen } = build('test.Sample')
    expectRefusal(await post(app, '/any', pb, hex('0a 02 c0 af')), 400, 'entity.utf8.invalid', seen)
  })

  it('refuses invalid UTF-8 in a proto2 string too, rather than repairing it to U+FFFD', async () => {
    const { app, seen } = build('legacy.Old')
    // Field 2 is a group holding string field 3 (label).
    const ok = await post(app, '/any', pb, hex('13 1a 02 68 69 14'))
    expect(ok.status, JSON.stringify(ok.body)).toBe(200)
    expect(seen.bodies).toEqual([{ box: { label: 'hi' } }])
    seen.bodies.length = 0
    for (const bad of ['13 1a 02 c0 af 14', '13 1a 03 ed a0 80 14', '13 1a 01 80 14']) {
      expectRefusal(await post(app, '/any', pb, hex(bad)), 400, 'entity.utf8.invalid', seen)
    }
  })

  it('validates the mapped value against the JSON Schema (422)', async () => {
    const { app, seen } = formatApp(express, {
      routes: {
        'POST /any': {
          schema: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string', minLength: 2 } },
          },
          message: 'test.Sample',
        },
      },
    })
    expectRefusal(
      await post(app, '/any', pb, encodeProto('test.Sample', { name: 'A' })),
      422,
      'entity.validation.failed',
      seen,
    )
    // A field left at its default is absent, as in the proto3 JSON mapping: `required` sees that.
    expectRefusal(
      await post(app, '/any', pb, encodeProto('test.Sample', { count: 3 })),
      422,
      'entity.validation.failed',
      seen,
    )
  })
})
