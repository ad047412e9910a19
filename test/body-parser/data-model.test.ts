import { describe, expect, it } from 'vitest'
import { expectPrototypesUntouched, frameworks } from '../helpers/app.js'
import { both } from './harness.js'

// The facade differences the outside review found (issue 21), rows 13-15 of the table in
// docs/BODY-PARSER.md: each shows body-parser's outcome next to ours.

const json = { 'Content-Type': 'application/json' }

describe.each(frameworks)('data-model differences from body-parser (%s)', (_name, express) => {
  it.each(['{"a":"\\ud800"}', '{"a":"\\udc00x"}', '["\\ud83d"]'])(
    'json: a lone surrogate %s is 400 entity.utf8.invalid (body-parser: 200)',
    async (body) => {
      const { theirs, ours } = await both(express, 'json', undefined, { headers: json, body })
      expect(theirs.status).toBe(200)
      expect(ours.status).toBe(400)
      expect(ours.result).toMatchObject({ type: 'entity.utf8.invalid', status: 400 })
      expectPrototypesUntouched()
    },
  )

  // Decoded from UTF-16, the text itself holds the lone surrogate, with no escape to find.
  it.each([
    ['utf-16le', '{"a":"x\ud800y"}'],
    ['utf-16le', '{"\udc00":1}'],
    ['utf-16be', '["\ud83d"]'],
  ])('json: a lone surrogate sent raw in %s is 400 entity.utf8.invalid', async (charset, text) => {
    const le = Buffer.from(text, 'utf16le')
    const body = charset === 'utf-16le' ? le : Buffer.from(le).swap16()
    const headers = { 'Content-Type': `application/json; charset=${charset}` }
    const { theirs, ours } = await both(express, 'json', undefined, { headers, body })
    expect(theirs.status).toBe(200)
    expect(ours.status).toBe(400)
    expect(ours.result).toMatchObject({ type: 'entity.utf8.invalid', status: 400 })
    expectPrototypesUntouched()
  })

  it.each(['{"a":1e400}', '[-1e999]', '1e400'])(
    'json: %s is 400 entity.type.unmapped (body-parser: 200 with Infinity)',
    async (body) => {
      const { theirs, ours } = await both(
        express,
        'json',
        { strict: false },
        { headers: json, body },
      )
      expect(theirs.status).toBe(200)
      expect(ours.status).toBe(400)
      expect(ours.result).toMatchObject({ type: 'entity.type.unmapped', status: 400 })
      expectPrototypesUntouched()
    },
  )

  it('text: charset=iso-2022-jp is decoded (body-parser: 415 charset.unsupported)', async () => {
    const body = Buffer.from([0x1b, 0x24, 0x42, 0x46, 0x7c, 0x4b, 0x5c, 0x1b, 0x28, 0x42]) // 日本
    const req = { headers: { 'Content-Type': 'text/plain; charset=iso-2022-jp' }, body }
    const { theirs, ours } = await both(express, 'text', undefined, req)
    expect(theirs.status).toBe(415)
    expect(theirs.result).toMatchObject({ type: 'charset.unsupported' })
    expect(ours.status).toBe(200)
    expect(ours.result).toMatchObject({ kind: 'string', value: '日本' })
    expectPrototypesUntouched()
  })
})
