import { describe, expect, it } from 'vitest'
import { decodeJson, withinLimits } from '../../src/decoders/json.js'
import { isBodyError } from '../../src/errors.js'
import { expectPrototypesUntouched } from '../helpers/app.js'

// JSON.parse turns a number too large for a double into Infinity. The raw-text precheck used
// to let small bodies such as `1e400` skip the guard, so Infinity reached the handler.

const limits = { depth: 64, keys: 1000, nodes: 100_000, stringLength: 100_000 }
const decode = (text: string) => decodeJson(Buffer.from(text), limits)

function refusal(text: string) {
  try {
    decode(text)
  } catch (err) {
    return err
  }
  return undefined
}

describe('numbers that overflow a double', () => {
  it.each([
    '1e400',
    '-1e400',
    '{"a":1E+400}',
    '[1e309]',
    '1.7976931348623159e308',
    '1e0000000400',
    `1${'0'.repeat(309)}`,
    `${'9'.repeat(250)}e99`,
  ])('refuses %s with 400 entity.type.unmapped', (text) => {
    const err = refusal(text)
    expect(isBodyError(err)).toBe(true)
    expect(err).toMatchObject({ status: 400, type: 'entity.type.unmapped' })
    expectPrototypesUntouched()
  })

  it.each([
    ['1.7976931348623157e308', Number.MAX_VALUE],
    ['1e-400', 0],
    ['5e-324', 5e-324],
    ['[1e99]', [1e99]],
  ])('accepts %s', (text, value) => {
    expect(decode(text)).toEqual(value)
  })

  it('refuses an integer literal a double rounds (10^300 written out), as YAML does', () => {
    expect(refusal(`1${'0'.repeat(300)}`)).toMatchObject({
      status: 400,
      type: 'entity.type.unmapped',
    })
  })

  it("refuses an integer literal beyond the largest double with largeIntegers: 'string' too, as YAML does", () => {
    let err: unknown
    try {
      decodeJson(Buffer.from(`{"id":1${'0'.repeat(309)}}`), limits, 'string')
    } catch (caught) {
      err = caught
    }
    expect(err).toMatchObject({ status: 400, type: 'entity.type.unmapped' })
    expect(decodeJson(Buffer.from(`{"id":1${'0'.repeat(20)}}`), limits, 'string')).toEqual({
      id: `1${'0'.repeat(20)}`,
    })
    expectPrototypesUntouched()
  })

  it('accepts integers beyond 2^53 written as JavaScript prints them', () => {
    expect(decode(JSON.stringify({ a: 2 ** 60, b: 1e20 }))).toEqual({ a: 2 ** 60, b: 1e20 })
    expect(decode('[1152921504606846976, 9007199254740992]')).toEqual([2 ** 60, 2 ** 53])
  })

  it('refuses every 210-digit run that overflows, wherever the run starts', () => {
    for (let offset = 0; offset < 450; offset += 7) {
      for (const length of [309, 310, 420]) {
        const text = `["${'x'.repeat(offset)}",${'9'.repeat(length)}]`
        expect(() => decode(text), `${offset}/${length}`).toThrow(
          expect.objectContaining({ type: 'entity.type.unmapped' }),
        )
      }
    }
  })

  it('proves ordinary numbers and digit-heavy strings without the guard', () => {
    const text = '{"a":1.5e10,"b":-12,"c":[3.25,1e-5],"d":"doe123@example.com","e":"4f1e9d0a"}'
    expect(withinLimits(JSON.parse(text), limits, false)).toBe(true)
    expect(withinLimits([Infinity], limits, false)).toBe(false)
    expect(withinLimits(-Infinity, limits, false)).toBe(false)
  })
})
