import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import ajvFormats from 'ajv-formats'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cjsDefault, exactLengths } from '../../src/core/length.js'
import { createRegistry, type ValidationOptions } from '../../src/core/registry.js'

// safebody's minLength/maxLength (src/core/length.ts) skip ajv's code-point count where the
// string's .length decides. Held here to stock ajv, with the same options, on strings of every
// kind (astral characters, lone surrogates, ASCII, empty) against limits on both sides of them:
// the same answer and the same first error.

const addFormats = cjsDefault<(ajv: Ajv) => unknown>(ajvFormats)
const drafts = [
  ['2020-12', Ajv2020],
  ['07', Ajv],
] as const

function stock(AjvClass: typeof Ajv, schema: AnySchema) {
  const ajv = new AjvClass({ strict: true, strictRequired: false, allowUnionTypes: true })
  addFormats(ajv)
  return ajv.compile(schema)
}

const firstError = (errors: ErrorObject[] | null | undefined) =>
  errors?.[0] && {
    keyword: errors[0].keyword,
    message: errors[0].message,
    params: errors[0].params,
  }

// Each unit weighted towards what changes a count: surrogate pairs, lone halves, plain text.
const unit = fc.oneof(
  fc.constantFrom('a', 'é', '\u{1F600}', '\u{10FFFF}', '\ud800', '\udfff', '\ud83d', '@', '.'),
  fc.string({ unit: 'binary', maxLength: 3 }),
)
const text = fc.array(unit, { maxLength: 12 }).map((parts) => parts.join(''))
const limit = fc.integer({ min: 0, max: 7 })

// An application's keyword, for string types: true for an even number of UTF-16 units.
const even = { type: 'string' as const, validate: (_: unknown, s: string) => s.length % 2 === 0 }

describe('minLength and maxLength: ajv answers, counted only when .length does not decide', () => {
  for (const [draft, AjvClass] of drafts) {
    // The validators of each schema, compiled once (ajv compiles in milliseconds).
    const compiled = new Map<string, [ValidateFunction, ValidateFunction]>()
    const pair = (min: number, max: number, withPattern: boolean) => {
      const key = `${min} ${max} ${withPattern}`
      let found = compiled.get(key)
      if (found === undefined) {
        const schema = {
          type: 'string',
          minLength: min,
          maxLength: max,
          // A second failing keyword: ajv reports the length first, and so must safebody.
          ...(withPattern ? { pattern: '^a', format: 'email' } : {}),
        }
        found = [createRegistry(undefined, { draft }).validator(schema), stock(AjvClass, schema)]
        compiled.set(key, found)
      }
      return found
    }
    it(`draft ${draft}: the same answer and first error as ajv, on every string`, () => {
      fc.assert(
        fc.property(text, limit, limit, fc.boolean(), (value, min, max, withPattern) => {
          const [ours, theirs] = pair(min, max, withPattern)
          expect(ours(value)).toBe(theirs(value))
          expect(firstError(ours.errors)).toEqual(firstError(theirs.errors))
        }),
        { numRuns: 600 },
      )
    })
  }

  it('counts code points, not UTF-16 units, at the edges where .length alone would be wrong', () => {
    const validate = createRegistry(undefined).validator({
      type: 'string',
      minLength: 2,
      maxLength: 2,
    })
    expect(validate('\u{1F600}\u{1F600}')).toBe(true) // 4 units, 2 code points
    expect(validate('\u{1F600}')).toBe(false) // 2 units, 1 code point: too short
    expect(validate.errors?.[0]?.keyword).toBe('minLength')
    expect(validate('\u{1F600}\u{1F600}a')).toBe(false) // 5 units, 3 code points: too long
    expect(validate.errors?.[0]?.keyword).toBe('maxLength')
    expect(validate('\ud800\ud800')).toBe(true) // two lone halves are two code points
  })

  it('keeps the limits read from the data ($data) as ajv does', () => {
    const schema = {
      type: 'object',
      properties: {
        max: {},
        min: {},
        text: { type: 'string', maxLength: { $data: '1/max' }, minLength: { $data: '1/min' } },
      },
    }
    // safebody's options do not take $data; the keyword keeps ajv's support for it anyway.
    const replaced = new Ajv({ $data: true, strict: true })
    exactLengths(replaced)
    const ours = replaced.compile(schema)
    const theirs = new Ajv({ $data: true, strict: true }).compile(schema)
    fc.assert(
      fc.property(
        text,
        fc.oneof(limit, fc.constantFrom(-1, Number.NaN, Infinity, '3', null)),
        fc.oneof(limit, fc.constantFrom(-1, Number.NaN, Infinity, '3', null)),
        (value, max, min) => {
          const body = { text: value, max, min }
          expect(ours(body)).toBe(theirs(body))
          expect(firstError(ours.errors)).toEqual(firstError(theirs.errors))
        },
      ),
      { numRuns: 400 },
    )
  })

  it("keeps ajv's unicode: false (deprecated): lengths in UTF-16 units, as ajv counts them then", () => {
    const options = { unicode: false } as ValidationOptions
    const ours = createRegistry(undefined, options).validator({ type: 'string', maxLength: 1 })
    expect(ours('\u{1F600}')).toBe(false) // two units
    const atLeast = createRegistry(undefined, options).validator({ type: 'string', minLength: 2 })
    expect(atLeast('\u{1F600}')).toBe(true)
  })

  it('adds the keywords option given as a map (deprecated in ajv) after the length limits, too', () => {
    const validate = createRegistry(undefined, {
      keywords: { even } as unknown as ValidationOptions['keywords'],
    }).validator({ type: 'string', maxLength: 3, even: true })
    expect(validate('abc')).toBe(false)
    expect(validate.errors?.[0]?.keyword).toBe('even')
    expect(validate('abcde')).toBe(false)
    expect(validate.errors?.[0]?.keyword).toBe('maxLength')
  })

  it("leaves an application's keywords working, after the length limits", () => {
    const validate = createRegistry(undefined, {
      keywords: [{ keyword: 'even', ...even }],
    }).validator({ type: 'string', maxLength: 3, even: true })
    expect(validate('ab')).toBe(true)
    expect(validate('abc')).toBe(false)
    expect(validate.errors?.[0]?.keyword).toBe('even')
    // Too long and odd: ajv checks its own keywords first, so maxLength is the error.
    expect(validate('abcde')).toBe(false)
    expect(validate.errors?.[0]?.keyword).toBe('maxLength')
  })
})
