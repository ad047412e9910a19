import { describe, expect, it } from 'vitest'
import { decodeJson } from '../src/decoders/json.js'
import { isBodyError } from '../src/errors.js'
import { guardValue } from '../src/core/guard.js'
import { expectPrototypesUntouched } from './helpers/app.js'

// JSON's "\ud800" escapes produce lone surrogates, which are not Unicode text: no UTF-8 form,
// encodeURIComponent throws on them. The guard refuses them in any format, keys included.

const limits = { depth: 64, keys: 1000, nodes: 100_000, stringLength: 100_000 }

function refusal(run: () => unknown) {
  try {
    run()
  } catch (err) {
    return err
  }
  return undefined
}

describe('lone surrogates', () => {
  it.each([
    ['a lone high surrogate', '["\\ud800"]'],
    ['a lone low surrogate', '"\\udfff"'],
    ['a key', '{"\\ud800":1}'],
    ['a reversed pair', '["\\udc00\\ud800"]'],
    ['half a pair at the end', '"a\\ud83d"'],
  ])('refuses %s in JSON with 400 entity.utf8.invalid', (_name, text) => {
    const err = refusal(() => decodeJson(Buffer.from(text), limits))
    expect(isBodyError(err)).toBe(true)
    expect(err).toMatchObject({ status: 400, type: 'entity.utf8.invalid' })
    expectPrototypesUntouched()
  })

  it('refuses them in values any decoder builds', () => {
    const err = refusal(() => guardValue({ a: ['ok', 'x\udc00'] }, limits))
    expect(err).toMatchObject({ status: 400, type: 'entity.utf8.invalid' })
  })

  it('accepts escaped pairs and astral characters', () => {
    expect(decodeJson(Buffer.from('["\\ud83d\\ude00","\u{1f600}"]'), limits)).toEqual([
      '\u{1f600}',
      '\u{1f600}',
    ])
  })
})
