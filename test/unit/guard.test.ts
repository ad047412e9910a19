import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { forbiddenKey, guardValue, type StructureLimits } from '../../src/core/guard.js'
import { expectPrototypesUntouched } from '../helpers/app.js'

const limits: StructureLimits = { depth: 8, keys: 5, nodes: 50, stringLength: 20 }

function typeOfRefusal(value: unknown, l: StructureLimits = limits): string | undefined {
  try {
    guardValue(value, l)
    return undefined
  } catch (err) {
    return (err as { type: string }).type
  }
}

describe('guardValue', () => {
  it('accepts every kind of value in the data model', () => {
    expect(typeOfRefusal({ a: [1, 'x', true, null, { b: -0.5 }] })).toBeUndefined()
    expect(typeOfRefusal(Object.assign(Object.create(null), { a: 1 }))).toBeUndefined()
  })

  it.each([
    ['own __proto__ key', JSON.parse('{"a":{"__proto__":{"x":1}}}')],
    ['__proto__ inside an array', JSON.parse('[1,[{"__proto__":{}}]]')],
    ['__proto__ with a primitive value', JSON.parse('{"__proto__":1}')],
    ['constructor.prototype', JSON.parse('{"constructor":{"prototype":{"x":1}}}')],
    ['nested constructor.prototype', JSON.parse('[{"a":{"constructor":{"prototype":null}}}]')],
  ])('refuses %s', (_name, value) => {
    expect(typeOfRefusal(value)).toBe('entity.forbidden.key')
    expectPrototypesUntouched()
  })

  it('lets a plain constructor key through when it holds no prototype', () => {
    expect(typeOfRefusal({ constructor: { name: 'x' } })).toBeUndefined()
    expect(typeOfRefusal({ constructor: 'x', prototype: 1 })).toBeUndefined()
  })

  it('refuses values outside the data model', () => {
    expect(typeOfRefusal({ a: new Date() })).toBe('entity.type.unmapped')
    expect(typeOfRefusal([new Uint8Array(2)])).toBe('entity.type.unmapped')
    expect(typeOfRefusal({ a: Number.NaN })).toBe('entity.type.unmapped')
    expect(typeOfRefusal({ a: Number.POSITIVE_INFINITY })).toBe('entity.type.unmapped')
    expect(typeOfRefusal({ a: 10n })).toBe('entity.type.unmapped')
    expect(typeOfRefusal({ a: undefined })).toBe('entity.type.unmapped')
    expect(typeOfRefusal({ [Symbol('s')]: 1 })).toBe('entity.type.unmapped')
    expect(typeOfRefusal(new Map())).toBe('entity.type.unmapped')
  })

  it('holds each limit exactly at its value', () => {
    const deep = (n: number): unknown => (n === 1 ? [] : [deep(n - 1)])
    expect(typeOfRefusal(deep(8))).toBeUndefined()
    expect(typeOfRefusal(deep(9))).toBe('entity.too.deep')
    const keys = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))
    expect(typeOfRefusal(keys(5))).toBeUndefined()
    expect(typeOfRefusal(keys(6))).toBe('entity.too.many.keys')
    expect(typeOfRefusal('x'.repeat(20))).toBeUndefined()
    expect(typeOfRefusal('x'.repeat(21))).toBe('entity.string.too.long')
    expect(typeOfRefusal({ ['k'.repeat(21)]: 1 })).toBe('entity.string.too.long')
    expect(typeOfRefusal(Array.from({ length: 49 }, () => 0))).toBeUndefined()
    expect(typeOfRefusal(Array.from({ length: 50 }, () => 0))).toBe('entity.too.many.nodes')
  })

  it('counts shared references at their expanded size and stops on a cycle', () => {
    const leaf = Array.from({ length: 15 }, () => 1)
    expect(typeOfRefusal([leaf, leaf, leaf, leaf])).toBe('entity.too.many.nodes')
    const cycle: unknown[] = []
    cycle.push(cycle)
    expect(typeOfRefusal(cycle)).toMatch(/entity\.too\.(deep|many\.nodes)/)
  })

  it('walks a million-deep array without recursion', () => {
    let value: unknown = []
    for (let i = 0; i < 1_000_000; i++) value = [value]
    expect(
      typeOfRefusal(value, { depth: 2_000_000, keys: 10, nodes: 3_000_000, stringLength: 10 }),
    ).toBeUndefined()
  })

  // Keys are unique per object here: with duplicates JSON.parse keeps only the last value.
  it('refuses any JSON text holding __proto__ as a key, however it is nested', () => {
    const key = fc.constantFrom('__proto__', 'a', 'b', 'constructor')
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.string(),
        fc.array(tie('node'), { maxLength: 3 }),
        fc
          .uniqueArray(fc.tuple(key, tie('node')), { maxLength: 3, selector: ([k]) => k })
          .map((pairs) => ({ pairs })),
      ),
    })).node
    const toJson = (node: unknown): string =>
      Array.isArray(node)
        ? `[${node.map(toJson).join(',')}]`
        : typeof node === 'object' && node !== null
          ? `{${(node as { pairs: [string, unknown][] }).pairs.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`
          : JSON.stringify(node)
    fc.assert(
      fc.property(tree, (node) => {
        const text = toJson(node)
        const value: unknown = JSON.parse(text)
        const hasProto = /"__proto__":/.test(text)
        const big = { depth: 100, keys: 100, nodes: 10_000, stringLength: 10_000 }
        const refusal = typeOfRefusal(value, big)
        if (hasProto) expect(refusal).toBe('entity.forbidden.key')
        else expect(refusal).toBeUndefined()
      }),
      { seed: 42, numRuns: 300 },
    )
    expectPrototypesUntouched()
  })
})

describe('forbiddenKey', () => {
  it('names exactly the prototype-rewriting keys', () => {
    expect(forbiddenKey('__proto__', 1)).toBe(true)
    expect(forbiddenKey('constructor', { prototype: {} })).toBe(true)
    expect(forbiddenKey('constructor', {})).toBe(false)
    expect(forbiddenKey('prototype', {})).toBe(false)
    expect(forbiddenKey('__proto', {})).toBe(false)
  })
})
