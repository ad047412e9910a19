import fc from 'fast-check'
import qs from 'qs'
import { describe, expect, it } from 'vitest'
import { decodeRaw } from '../../src/decoders/raw.js'
import { decodeText } from '../../src/decoders/text.js'
import {
  countParameters,
  decodeUrlencoded,
  forbiddenFormKey,
  parseForm,
} from '../../src/decoders/urlencoded.js'
import type { StructureLimits } from '../../src/core/guard.js'
import { expectPrototypesUntouched } from '../helpers/app.js'

const limits: StructureLimits = { depth: 64, keys: 1000, nodes: 100_000, stringLength: 100_000 }
const form = (text: string, l: StructureLimits = limits) =>
  decodeUrlencoded(Buffer.from(text, 'utf8'), l)

function refusal(fn: () => unknown): { type?: string; status?: number } {
  try {
    fn()
  } catch (err) {
    return err as { type?: string; status?: number }
  }
  return expect.fail('expected a refusal')
}

describe('urlencoded decoder', () => {
  it('gives strings, arrays and objects (qs extended syntax)', () => {
    expect(form('a=1&b=x%20y&c[]=1&c[]=2&d[e][f]=g&h')).toEqual({
      a: '1',
      b: 'x y',
      c: ['1', '2'],
      d: { e: { f: 'g' } },
      h: '',
    })
    expect(form('a=%E2%9C%93+b')).toEqual({ a: '✓ b' })
  })

  it.each(['=2', 'a=1&=2', 'a=1&==', '=x&b=1'])(
    'refuses %s, a value with no name (qs would drop it), with 400 entity.parse.failed',
    (text) => {
      expect(Object.keys(qs.parse(text))).not.toContain('')
      expect(refusal(() => form(text))).toMatchObject({ status: 400, type: 'entity.parse.failed' })
      expectPrototypesUntouched()
    },
  )

  it('takes empty parameters that carry nothing, and compacts arrays as qs does', () => {
    expect(form('a=1&&b=2&')).toEqual({ a: '1', b: '2' })
    expect(form('=&a=1&=')).toEqual({ a: '1' })
    expect(form('a=%3D2&b==')).toEqual({ a: '=2', b: '=' })
    // qs ends a name at its first `]=`: these parameters have names, and arrive under them.
    for (const text of ['=a]=b', 'a=1&=b]=c', '=x%5D=y', '=a[b]=c'])
      expect(form(text)).toEqual(qs.parse(text))
    expect(form('=a[b]=c')).toEqual({ '=a': { b: 'c' } })
    // Every value arrives, in index order; the index numbers themselves do not.
    expect(form('a[5]=x&a[2]=y')).toEqual({ a: ['y', 'x'] })
  })

  it('keeps keys named like Object.prototype members as plain data', () => {
    const value = form('toString=1&hasOwnProperty=2&constructor=3') as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toEqual(['toString', 'hasOwnProperty', 'constructor'])
    expectPrototypesUntouched()
  })

  it.each([
    'a[__proto__][x]=1',
    '__proto__[x]=1',
    'a[constructor][prototype][x]=1',
    '__proto__=1',
    '%5F%5Fproto%5F%5F[x]=1',
    '%5F%5Fproto%5F%5F=1',
    'a%5B__proto__%5D=1',
    'a%5b__proto__%5d%5bx%5d=1',
    'a.__proto__=1',
    'a.__proto__.x=1',
    'a.constructor.prototype.x=1',
    'constructor[prototype][x]=1',
    'x=1&a[__proto__]=2',
    '__pro%74o__[x]=1',
    '[__proto__][x]=1',
    'a[b][__proto__]=1',
    'a[]=1&a[__proto__]=2',
  ])('refuses %s with 400 entity.forbidden.key', (text) => {
    expect(refusal(() => form(text))).toMatchObject({ status: 400, type: 'entity.forbidden.key' })
    expectPrototypesUntouched()
  })

  it('shows why the check is needed: qs alone drops these keys silently', () => {
    expect(qs.parse('a[__proto__][x]=1', { allowPrototypes: false })).toEqual({})
    expect(qs.parse('a[__proto__][x]=1', { allowPrototypes: true })).toEqual({ a: {} })
    expect(qs.parse('__proto__[x]=1', { plainObjects: true })).toEqual({})
  })

  it('refuses more than 1000 parameters with 400, never truncates', () => {
    const text = Array.from({ length: 1001 }, (_, i) => `k${i}=v`).join('&')
    expect(refusal(() => form(text))).toMatchObject({ status: 400, type: 'entity.too.many.keys' })
    const ok = Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join('&')
    expect(Object.keys(form(ok) as object)).toHaveLength(1000)
  })

  it('lowers the parameter limit to the route maxKeys', () => {
    expect(refusal(() => form('a=1&b=2&c=3', { ...limits, keys: 2 }))).toMatchObject({
      status: 400,
      type: 'entity.too.many.keys',
    })
  })

  it('refuses keys nested deeper than 32 with 400, never flattens them', () => {
    const key = (n: number) => `a${'[b]'.repeat(n)}`
    expect(() => form(`${key(32)}=1`)).not.toThrow()
    expect(refusal(() => form(`${key(33)}=1`))).toMatchObject({
      status: 400,
      type: 'entity.too.deep',
    })
    expect(refusal(() => form(`${key(3)}=1`, { ...limits, depth: 3 }))).toMatchObject({
      status: 400,
      type: 'entity.too.deep',
    })
  })

  it('refuses an array index past the array limit instead of turning the array into an object', () => {
    expect(form('a[999]=x')).toEqual({ a: ['x'] })
    expect(refusal(() => form('a[1000]=x'))).toMatchObject({
      status: 400,
      type: 'entity.too.many.nodes',
    })
  })

  it('applies the route limits through the guard', () => {
    expect(
      refusal(() => form(`a=${'x'.repeat(11)}`, { ...limits, stringLength: 10 })),
    ).toMatchObject({ status: 400, type: 'entity.string.too.long' })
  })

  it('refuses invalid UTF-8 and UTF-16 bodies', () => {
    expect(refusal(() => decodeUrlencoded(Buffer.from([0x61, 0x3d, 0xff]), limits))).toMatchObject({
      status: 400,
      type: 'entity.utf8.invalid',
    })
    expect(
      refusal(() => decodeUrlencoded(Buffer.from('\ufeffa=1', 'utf16le'), limits)),
    ).toMatchObject({ status: 415, type: 'charset.unsupported' })
  })

  it('refuses percent-escapes that decode to invalid UTF-8, in values and keys', () => {
    // qs would hand these on undecoded, so `%C0%A2` and `%25C0%25A2` would arrive alike.
    for (const text of ['a=%C0%A2', 'a=%ED%A0%80', 'a=%FF', 'a=caf%E9', '%C0%A2=1', 'a[%FF]=1']) {
      expect(
        refusal(() => form(text)),
        text,
      ).toMatchObject({
        status: 400,
        type: 'entity.utf8.invalid',
      })
    }
    expect(form('a=%25C0%25A2')).toEqual({ a: '%C0%A2' })
    expect(form('a=caf%C3%A9+%E2%82%AC')).toEqual({ a: 'café €' })
  })

  it('keeps a stray % as it is and still decodes the escapes around it (as WHATWG forms do)', () => {
    expect(form('a=100%&b=%zz&c=50%25+off+5%')).toEqual({ a: '100%', b: '%zz', c: '50% off 5%' })
    expect(form('a=%C3%A9%')).toEqual({ a: 'é%' })
  })

  it('round-trips what qs.stringify writes (property)', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/)
    const leaf = fc.string({ maxLength: 20 })
    const value = fc.dictionary(
      key,
      fc.oneof(leaf, fc.array(leaf, { minLength: 1, maxLength: 5 }), fc.dictionary(key, leaf)),
      { maxKeys: 8 },
    )
    fc.assert(
      fc.property(value, (v) => {
        const text = qs.stringify(v, { encodeValuesOnly: false })
        const back = text === '' ? {} : form(text)
        // qs drops empty objects and arrays on the way out; compare with its own round trip.
        expect(back).toEqual(qs.parse(text, { depth: 32, arrayLimit: 1000 }))
      }),
      { numRuns: 200 },
    )
  })

  it('never lets a forbidden key through, whatever surrounds it (property)', () => {
    const piece = fc.constantFrom('a', 'b', '0', '', 'x.y')
    const bad = fc.constantFrom('__proto__', '%5F%5Fproto%5F%5F', '__pro%74o__')
    const spelling = fc.tuple(
      fc.array(piece, { maxLength: 3 }),
      bad,
      fc.array(piece, { maxLength: 3 }),
    )
    fc.assert(
      fc.property(spelling, fc.boolean(), ([before, middle, after], dots) => {
        const parts = [...before, middle, ...after]
        const keyText = dots
          ? parts.join('.')
          : `${parts[0]}${parts
              .slice(1)
              .map((p) => `[${p}]`)
              .join('')}`
        expect(refusal(() => form(`${keyText}=1`))).toMatchObject({ type: 'entity.forbidden.key' })
        expectPrototypesUntouched()
      }),
      { numRuns: 300 },
    )
  })
})

describe('forbiddenFormKey and countParameters', () => {
  it('checks segments, not substrings', () => {
    expect(forbiddenFormKey('my__proto__')).toBe(false)
    expect(forbiddenFormKey('a[constructor]')).toBe(false)
    expect(forbiddenFormKey('a[constructor][x]')).toBe(false)
    expect(forbiddenFormKey('a[x][__proto__]')).toBe(true)
  })

  it('counts & separated parameters and stops past the limit', () => {
    expect(countParameters('a', 10)).toBe(1)
    expect(countParameters('a&b&&c', 10)).toBe(4)
    expect(countParameters('a&b&c&d', 2)).toBe(3)
  })

  it('parseForm with depth 0 keeps brackets literal (body-parser simple mode)', () => {
    const value = parseForm('a[b]=1', {
      depth: 0,
      arrayLimit: 1,
      strictArrays: false,
      charset: 'utf-8',
    })
    expect(value).toEqual({ 'a[b]': '1' })
  })
})

describe('text decoder', () => {
  it('gives the body as a string, BOM dropped', () => {
    expect(decodeText(Buffer.from('\ufeffhéllo', 'utf8'), limits)).toBe('héllo')
  })

  it('refuses invalid UTF-8 (400), UTF-16 (415) and strings past maxStringLength (400)', () => {
    expect(refusal(() => decodeText(Buffer.from([0xc3, 0x28]), limits))).toMatchObject({
      status: 400,
      type: 'entity.utf8.invalid',
    })
    expect(refusal(() => decodeText(Buffer.from('\ufeffhi', 'utf16le'), limits))).toMatchObject({
      status: 415,
      type: 'charset.unsupported',
    })
    expect(
      refusal(() => decodeText(Buffer.from('x'.repeat(11)), { ...limits, stringLength: 10 })),
    ).toMatchObject({ status: 400, type: 'entity.string.too.long' })
  })
})

describe('raw decoder', () => {
  it('maps any bytes to base64 and back (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const value = decodeRaw(Buffer.from(bytes))
        expect(typeof value).toBe('string')
        expect(new Uint8Array(Buffer.from(value, 'base64'))).toEqual(bytes)
      }),
    )
  })
})
