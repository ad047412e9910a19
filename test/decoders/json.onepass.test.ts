import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { guardValue, type StructureLimits } from '../../src/core/guard.js'
import { decodeJson, maySurrogate } from '../../src/decoders/json.js'
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

// With strings no longer than the limit can reach (longer than any text here), the walk
// that skips strings decides every document without a lone surrogate escape.
const longStringsArb: fc.Arbitrary<StructureLimits> = limitsArb.map((limits) => ({
  ...limits,
  stringLength: 100_000,
}))
const refusals = [
  'entity.forbidden.key',
  'entity.too.deep',
  'entity.too.many.keys',
  'entity.too.many.nodes',
  'entity.type.unmapped',
  'entity.utf8.invalid',
]

describe('JSON in one pass, against the full guard', () => {
  it.each([
    ['short strings', limitsArb, [...refusals, 'entity.string.too.long']],
    ['strings within the limit (the walk that skips strings)', longStringsArb, refusals],
  ] as const)(
    '%s: accepts what the guard accepts and refuses with the guard’s type',
    (_n, limitsOf, types) => {
      const seen = new Set<string>()
      fc.assert(
        fc.property(jsonText, limitsOf, (text, limits) => {
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
      for (const type of ['accepted', ...types]) expect(seen).toContain(type)
      expect(Object.prototype).not.toHaveProperty('a')
    },
  )
})

// maySurrogate reads the text, not the value: it walks the `\u` escapes one by one, and where
// plain ones are dense (text in another script, escaped by Python's json.dumps or Gson) it
// hands the rest of the text to a regex. Both ways must find every lone surrogate and pass
// every escaped pair, wherever in the text they sit.
const plainEscape = fc.constantFrom(
  '\\u00e9',
  '\\u4e2d',
  '\\u003c',
  '\\uD7FF',
  '\\ue000',
  '\\uFFFD',
)
const pairEscape = fc.constantFrom('\\ud83d\\ude00', '\\uD83D\\uDE80', '\\udbff\\udfff')
const asciiRun = fc.constantFrom('a', 'user123@example.com ', '4f1e9d0a', 'ud83d', '\\n', '\\"')
const loneEscape = fc.constantFrom(
  '\\ud800',
  '\\udc00',
  '\\uDBFF',
  '\\ud83d\\u0041',
  '\\ude00\\ud83d',
)
// Escaped text: dense (forty plain escapes in a row first, so the regex takes over the rest)
// or sparse (4,000 plain characters first, so the cursor keeps the whole text).
const written = (dense: boolean) =>
  fc
    .array(
      dense
        ? fc.oneof(plainEscape, pairEscape, asciiRun)
        : fc.oneof(pairEscape, asciiRun, asciiRun, plainEscape),
      {
        minLength: 40,
        maxLength: 200,
      },
    )
    .map((parts) => (dense ? '\\u00e9'.repeat(40) : 'x'.repeat(4000)) + parts.join(''))
const isWellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed()

describe('the surrogate scan, on sparse and dense escapes', () => {
  for (const dense of [false, true]) {
    const how = dense ? 'dense' : 'sparse'
    it(`passes escaped pairs and other escapes (${how})`, () => {
      fc.assert(
        fc.property(written(dense), (body) => {
          expect(maySurrogate(JSON.stringify({ a: JSON.parse(`"${body}"`) }))).toBe(false)
          expect(maySurrogate(`{"a":"${body}"}`), body).toBe(false)
        }),
        { numRuns: 300, seed: 7 },
      )
    })
    it(`finds a lone surrogate anywhere (${how})`, () => {
      let lone = 0
      fc.assert(
        fc.property(written(dense), loneEscape, fc.nat(), (body, piece, at) => {
          const cut = at % (body.length + 1)
          // Not inside an escape: cut at a backslash or at the end.
          const from =
            body.lastIndexOf('\\', cut) === cut || cut === body.length ? cut : body.length
          const text = `{"a":"${body.slice(0, from)}${piece}${body.slice(from)}"}`
          // The piece can complete a pair with its neighbour: then nothing is lone.
          if (isWellFormed((JSON.parse(text) as { a: string }).a)) return
          lone++
          expect(maySurrogate(text), text).toBe(true)
        }),
        { numRuns: 600, seed: 11 },
      )
      expect(lone).toBeGreaterThan(400)
    })
  }
})
