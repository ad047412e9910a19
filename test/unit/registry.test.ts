import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createRegistry } from '../../src/core/registry.js'

const address = {
  $id: 'https://example.com/address',
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
}
const person = {
  type: 'object',
  properties: { name: { type: 'string' }, home: { $ref: 'https://example.com/address' } },
  required: ['name'],
}

describe('createRegistry', () => {
  it('registers a record and resolves $ref between schemas', () => {
    const registry = createRegistry({ address, person })
    const validate = registry.validator('person')
    expect(validate({ name: 'a', home: { city: 'x' } })).toBe(true)
    expect(validate({ name: 'a', home: {} })).toBe(false)
    expect(registry.validator('address')).toBe(registry.validator('https://example.com/address'))
  })

  it('never lets an inherited method satisfy required, polluted prototype or not', () => {
    const registry = createRegistry({ t: { type: 'object', required: ['toString'] } })
    expect(registry.validator('t')({})).toBe(false)
    expect(registry.validator('t')({ toString: 'own' })).toBe(true)
    const inline = registry.validator({ type: 'object', required: ['valueOf'] })
    expect(inline({})).toBe(false)
    const plain = createRegistry({ p: { type: 'object', required: ['name'] } }).validator('p')
    const proto = Object.prototype as Record<string, unknown>
    proto.name = 'polluted elsewhere'
    try {
      expect(plain({})).toBe(false)
      expect(plain.errors?.[0]?.keyword).toBe('required')
    } finally {
      delete proto.name
    }
    expect(plain({ name: 'a' })).toBe(true)
    expect(plain.errors).toBeNull()
  })

  it('registers an array of $id schemas and refuses one without $id', () => {
    const registry = createRegistry([address])
    expect(registry.ids.has('https://example.com/address')).toBe(true)
    expect(() => createRegistry([address, { type: 'string' }])).toThrow(/schemas\[1\] has no \$id/)
  })

  it('loads a folder of *.json files, keyed by file name, stem and $id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'safebody-schemas-'))
    writeFileSync(join(dir, 'address.json'), JSON.stringify(address))
    writeFileSync(join(dir, 'person.json'), JSON.stringify(person))
    writeFileSync(join(dir, 'notes.txt'), 'not a schema')
    const registry = createRegistry(dir)
    expect([...registry.ids].sort()).toEqual([
      'address',
      'address.json',
      'https://example.com/address',
      'person',
      'person.json',
    ])
    expect(registry.validator('person')({ name: 'a', home: { city: 'b' } })).toBe(true)
  })

  it('fails at start-up, naming the culprit', () => {
    expect(() => createRegistry({ bad: { type: 'no-such-type' } })).toThrow(/schema "bad"/)
    expect(() => createRegistry({ strictly: { type: 'object', propertees: {} } })).toThrow(
      /schema "strictly" .*propertees/,
    )
    expect(() => createRegistry({ dangling: { $ref: 'nowhere.json' } })).toThrow(/"dangling"/)
    expect(() => createRegistry({ a: address, b: address })).toThrow(/two schemas .*address/)
    expect(() => createRegistry('/no/such/folder')).toThrow(/cannot read the schema folder/)
    expect(() => createRegistry({}).validator('missing')).toThrow(
      /no schema is registered as "missing"/,
    )
  })

  it('keeps coercion and defaults off unless asked', () => {
    const schema = { type: 'object', properties: { n: { type: 'integer', default: 1 } } }
    const strict = createRegistry({ s: schema }).validator('s')
    const data: { n?: unknown } = {}
    expect(strict({ n: '5' })).toBe(false)
    expect(strict(data)).toBe(true)
    expect(data.n).toBeUndefined()
    const loose = createRegistry({ s: schema }, { coerceTypes: true, useDefaults: true }).validator(
      's',
    )
    expect(loose({ n: '5' })).toBe(true)
    expect(loose(data)).toBe(true)
    expect(data.n).toBe(1)
  })

  it('knows the formats of ajv-formats and the draft-07 dialect when asked', () => {
    const email = createRegistry({ e: { type: 'string', format: 'email' } }).validator('e')
    expect(email('a@b.example')).toBe(true)
    expect(email('nope')).toBe(false)
    const tuple = {
      type: 'array',
      items: [{ type: 'string' }],
      minItems: 1,
      additionalItems: false,
    }
    expect(createRegistry({ t: tuple }, { draft: '07' }).validator('t')(['a'])).toBe(true)
  })
})
