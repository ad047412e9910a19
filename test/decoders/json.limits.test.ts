import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeJson, withinLimits } from '../../src/decoders/json.js'
import { isBodyError } from '../../src/errors.js'
import { guardValue, type StructureLimits } from '../../src/core/guard.js'

const limitsArb = fc.record({
  depth: fc.integer({ min: 1, max: 6 }),
  keys: fc.integer({ min: 1, max: 6 }),
  nodes: fc.integer({ min: 1, max: 40 }),
  stringLength: fc.integer({ min: 0, max: 12 }),
})

function guardPasses(value: unknown, limits: StructureLimits): boolean {
  try {
    guardValue(value, limits)
    return true
  } catch (err) {
    if (!isBodyError(err)) throw err
    return false
  }
}

function refusal(run: () => unknown): string | null {
  try {
    run()
    return null
  } catch (err) {
    if (!isBodyError(err)) throw err
    return err.type
  }
}

describe('withinLimits (the JSON fast path)', () => {
  it('agrees with the guard on every JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), limitsArb, (value, limits) => {
        const parsed: unknown = JSON.parse(JSON.stringify(value))
        expect(withinLimits(parsed, limits)).toBe(guardPasses(parsed, limits))
      }),
      { numRuns: 500 },
    )
  })

  it('never clears a key named __proto__ or constructor: the guard looks at those', () => {
    const limits = { depth: 5, keys: 5, nodes: 50, stringLength: 50 }
    expect(withinLimits(JSON.parse('{"a":{"__proto__":{"x":1}}}'), limits)).toBe(false)
    expect(withinLimits(JSON.parse('[{"constructor":{"prototype":{}}}]'), limits)).toBe(false)
  })

  it('counts as the guard does at the edges: depth, keys, nodes, string length', () => {
    const limits = { depth: 2, keys: 2, nodes: 4, stringLength: 3 }
    expect(withinLimits([[1]], limits)).toBe(true)
    expect(withinLimits([[[1]]], limits)).toBe(false)
    expect(withinLimits({ a: 1, b: 2 }, limits)).toBe(true)
    expect(withinLimits({ a: 1, b: 2, c: 3 }, limits)).toBe(false)
    expect(withinLimits([1, 2, 3], limits)).toBe(true)
    expect(withinLimits([1, 2, 3, 4], limits)).toBe(false)
    expect(withinLimits({ abc: 'abc' }, limits)).toBe(true)
    expect(withinLimits({ abcd: 1 }, limits)).toBe(false)
    expect(withinLimits('abcd', limits)).toBe(false)
  })

  it('leaves the decision to the guard when Object.prototype has an enumerable key', () => {
    const proto = Object.prototype as Record<string, unknown>
    proto.injected = 1
    try {
      expect(withinLimits({ a: 1 }, { depth: 5, keys: 5, nodes: 50, stringLength: 50 })).toBe(false)
    } finally {
      delete proto.injected
    }
    expect(Object.keys(Object.prototype)).toEqual([])
  })

  it('leaves very deep limits to the guard rather than recurse', () => {
    const limits = { depth: 5000, keys: 10, nodes: 100, stringLength: 10 }
    expect(withinLimits([1], limits)).toBe(false)
  })
})

describe('decodeJson with the fast path', () => {
  // Bodies long enough that the text precheck cannot clear them, so the walk decides.
  const limits = { depth: 3, keys: 5, nodes: 60, stringLength: 40 }
  const pad = (value: unknown) => Buffer.from(JSON.stringify(value) + ' '.repeat(100))

  it.each([
    ['entity.too.deep', [[[[1]]]]],
    ['entity.too.many.keys', { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }],
    ['entity.too.many.nodes', Array.from({ length: 60 }, () => 0)],
    ['entity.string.too.long', ['x'.repeat(41)]],
  ])('refuses %s exactly as the guard does', (type, value) => {
    expect(refusal(() => decodeJson(pad(value), limits))).toBe(type)
    expect(refusal(() => guardValue(value, limits))).toBe(type)
  })

  it.each([
    ['__proto__', '{"__proto__":{"x":1}}'],
    ['escaped __proto__', '{"\\u005f_proto__":{"x":1}}'],
    ['constructor.prototype', '{"constructor":{"prototype":{"x":1}}}'],
  ])('still refuses a forbidden key (%s) through the full guard', (_name, json) => {
    const body = Buffer.from(`{"a":[${'1,'.repeat(50)}1],"b":${json}}`)
    expect(refusal(() => decodeJson(body, { ...limits, nodes: 100 }))).toBe('entity.forbidden.key')
  })

  it('lets a constructor key that holds no prototype through, as the guard does', () => {
    const body = Buffer.from(`{"a":[${'1,'.repeat(50)}1],"constructor":"x"}`)
    expect(decodeJson(body, { ...limits, nodes: 100 })).toMatchObject({ constructor: 'x' })
  })

  it('returns the parsed value when every limit holds', () => {
    const value = { items: [{ a: 'x' }, { b: 2 }], n: null }
    expect(decodeJson(pad(value), limits)).toEqual(value)
  })
})
