import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formats } from '../../src/decoders/formats.js'
import type { DecodeContext, Format } from '../../src/decoders/formats.js'
import { joinForText } from '../../src/core/text.js'

// A textual format's decoder may be handed a buffer that is reused as soon as it returns
// (`joinForText`): what it returns must share no memory with its input.
const context: DecodeContext = {
  limits: { depth: 64, keys: 1000, nodes: 1_000_000, stringLength: 2_000_000 },
}

/** Decode `bytes`, overwrite them, and return the value decoded and a fresh decode of a copy. */
function decodeThenOverwrite(format: Format, bytes: Buffer): [unknown, unknown] {
  const expected = format.decode(Buffer.from(bytes), context)
  const value = format.decode(bytes, context)
  bytes.fill(0x7b)
  return [value, expected]
}

const text = fc.string({ unit: 'grapheme', maxLength: 40 })
const document = fc.dictionary(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }),
  fc.oneof(text, fc.integer(), fc.boolean(), fc.array(text, { maxLength: 4 })),
  { maxKeys: 8 },
)

const encodings: Record<'json' | 'yaml' | 'text' | 'urlencoded', fc.Arbitrary<string>> = {
  json: document.map((value) => JSON.stringify(value)),
  // JSON is YAML; its flow style is enough to carry every scalar here.
  yaml: document.map((value) => JSON.stringify(value)),
  text,
  urlencoded: fc
    .dictionary(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }), text, {
      maxKeys: 8,
    })
    .map((fields) => new URLSearchParams(fields).toString()),
}

describe('textual formats keep nothing of the bytes they decode', () => {
  it.each(Object.keys(encodings) as (keyof typeof encodings)[])(
    '%s: the value is the same after its bytes are overwritten',
    (name) => {
      const format = formats[name]
      expect(format.textual).toBe(true)
      fc.assert(
        fc.property(encodings[name], (body) => {
          const [value, expected] = decodeThenOverwrite(format, Buffer.from(body))
          expect(value).toEqual(expected)
        }),
        { numRuns: 200 },
      )
    },
  )

  it('json: also an ASCII body large enough to become an external string', () => {
    // Node copies text over ~1 MB out of the V8 heap; it must still be a copy.
    const records = Array.from({ length: 40_000 }, (_, id) => ({ id, name: `user ${id}` }))
    const [value, expected] = decodeThenOverwrite(
      formats.json,
      Buffer.from(JSON.stringify(records)),
    )
    expect(value).toEqual(expected)
  })

  it('the check can fail: a decoder that hands on a view of its bytes', () => {
    const viewing: Format = { ...formats.text, decode: (bytes) => ({ head: bytes.subarray(0, 3) }) }
    const [value, expected] = decodeThenOverwrite(viewing, Buffer.from('abc'))
    expect(value).not.toEqual(expected)
  })
})

describe('joinForText', () => {
  it('joins the chunks in order, into a buffer the next call reuses', () => {
    const first = joinForText([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('e')], 5)
    expect(first?.toString()).toBe('abcde')
    const second = joinForText([Buffer.from('xy'), Buffer.from('z')], 3)
    expect(second?.toString()).toBe('xyz')
    expect(first?.buffer).toBe(second?.buffer)
  })

  it('leaves a body over 4 MiB to the caller, and keeps no buffer that large', () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x61)
    expect(joinForText([big.subarray(0, 1024), big.subarray(1024)], big.length)).toBeNull()
    const most = Buffer.alloc(4 * 1024 * 1024, 0x62)
    const joined = joinForText([most.subarray(0, 1024), most.subarray(1024)], most.length)
    expect(joined?.equals(most)).toBe(true)
    expect(joined?.buffer.byteLength).toBe(most.length)
  })
})
