import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { guardValue, type StructureLimits } from '../../src/core/guard.js'
import { decodeJson } from '../../src/decoders/json.js'
import { isBodyError } from '../../src/errors.js'

// The one-pass JSON check against the full guard: on generated documents full of what
// trips parsers and heuristics (escapes, lone surrogates, huge numbers, hostile keys spelled
// plainly and escaped, deep nesting, long strings), decodeJson accepts exactly what the guard
// accepts and refuses with the same type.

const keyText = fc.constantFrom(
  '"a"',
  '"b"',
  '"id"',
  '"__proto__"',
  '"\\u005f\\u005fproto\\u005f\\u005f"',
  '"constructor"',
  '"\\u0063onstructor"',
  '"prototype"',
  '"\\ud800"',
  '"k\\udfff"',
  '"toString"',
  '"doe123@example.com"',
  `"${'k'.repeat(25)}"`,
)
const stringText = fc.constantFrom(
  '"plain"',
  '"caf\\u00e9 \\u003cb\\u003e"',
  '"\\ud83d\\ude00"',
  '"\\ud800"',
  '"x\\udc00"',
  '"\\uD83D"',
  '"\\\\ud800"',
  '"\\\\\\ud800"',
  '"\\\\ud800\\udc00"',
  '"\\ud83d\\u0041"',
  '"\\uD83D\\uDE00\\ud83d"',
  '"a\\ud83d\\ude00\\u00e9"',
  '"\\ud7ff\\ue000"',
  '"4f1e9d0a7c3b2e1d"',
  '"1e400"',
  '"constructor"',
  `"${'s'.repeat(30)}"`,
  '"e"',
)
const numberText = fc.constantFrom(
  '1',
  '-0',
  '0.5',
  '1e308',
  '1e400',
  '-1e400',
  '9'.repeat(320),
  '12e-400',
)

const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringText,
    numberText,
    fc.constantFrom('true', 'null'),
    fc.array(tie('value'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(keyText, tie('value')), { maxLength: 5 })
      .map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`),
  ),
})).value

const limitsArb: fc.Arbitrary<StructureLimits> = fc.record({
  depth: fc.integer({ min: 1, max: 6 }),
  keys: fc.integer({ min: 1, max: 5 }),
  nodes: fc.integer({ min: 1, max: 40 }),
  stringLength: fc.integer({ min: 1, max: 28 }),
})

function outcome(run: () => unknown): string {
  try {
    run()
    return 'accepted'
  } catch (err) {
    if (isBodyError(err)) return err.type
    throw err
  }
}

describe('JSON in one pass, against the full guard', () => {
  it('accepts what the guard accepts and refuses with the guard’s type', () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(jsonText, limitsArb, (text, limits) => {
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          return // duplicate __proto__ keys and the like parse fine; nothing here fails to parse
        }
        const expected = outcome(() => guardValue(parsed, limits))
        const actual = outcome(() => decodeJson(Buffer.from(text), limits))
        seen.add(expected)
        expect(actual, text).toBe(expected)
      }),
      { numRuns: 3000, seed: 1312 },
    )
    // The generator reaches every rule, so the property is not vacuous.
    for (const type of [
      'accepted',
      'entity.forbidden.key',
      'entity.too.deep',
      'entity.too.many.keys',
      'entity.too.many.nodes',
      'entity.string.too.long',
      'entity.type.unmapped',
      'entity.utf8.invalid',
    ]) {
      expect(seen).toContain(type)
    }
    expect(Object.prototype).not.toHaveProperty('a')
  })
})
