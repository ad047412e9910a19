import { describe, expect, test } from 'vitest'
import {
  discriminatedSchemas,
  type TranslateContext,
  translateSchema,
} from '../../src/openapi/schema.js'

const v30 = (): TranslateContext => ({ version: '3.0', keywords: new Set() })
const v31 = (): TranslateContext => ({ version: '3.1', keywords: new Set() })

describe('OpenAPI 3.0 schemas', () => {
  test('nullable adds null to a type given in the same schema', () => {
    expect(translateSchema({ type: 'string', nullable: true }, v30(), 's')).toEqual({
      type: ['string', 'null'],
    })
    expect(translateSchema({ type: 'string', nullable: false }, v30(), 's')).toEqual({
      type: 'string',
    })
  })

  test('nullable without a type, or with an enum lacking null, admits no null (3.0.3)', () => {
    expect(translateSchema({ allOf: [{ type: 'string' }], nullable: true }, v30(), 's')).toEqual({
      allOf: [{ type: 'string' }],
    })
    expect(translateSchema({ type: 'string', enum: ['a'], nullable: true }, v30(), 's')).toEqual({
      type: ['string', 'null'],
      enum: ['a'],
    })
  })

  test('nested schemas are translated: properties, items, allOf, additionalProperties', () => {
    const out = translateSchema(
      {
        type: 'object',
        properties: { a: { type: 'integer', nullable: true } },
        additionalProperties: { type: 'array', items: { type: 'boolean', nullable: true } },
        allOf: [{ type: 'object', nullable: true }],
      },
      v30(),
      's',
    )
    expect(out).toEqual({
      type: 'object',
      properties: { a: { type: ['integer', 'null'] } },
      additionalProperties: { type: 'array', items: { type: ['boolean', 'null'] } },
      allOf: [{ type: ['object', 'null'] }],
    })
  })

  test('boolean exclusiveMinimum/Maximum become numbers', () => {
    expect(
      translateSchema(
        { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 9, exclusiveMaximum: false },
        v30(),
        's',
      ),
    ).toEqual({ type: 'number', exclusiveMinimum: 0, maximum: 9 })
  })

  test('$ref siblings are dropped, as 3.0 ignores them', () => {
    expect(
      translateSchema({ $ref: '#/components/schemas/A', nullable: true, maxLength: 1 }, v30(), 's'),
    ).toEqual({ $ref: 'openapi:/components/schemas/A' })
  })

  test('a property named like a keyword is not translated as one', () => {
    expect(translateSchema({ properties: { nullable: { type: 'boolean' } } }, v30(), 's')).toEqual({
      properties: { nullable: { type: 'boolean' } },
    })
  })

  test('the document is left as it was', () => {
    const schema = { type: 'string', nullable: true }
    translateSchema(schema, v30(), 's')
    expect(schema).toEqual({ type: 'string', nullable: true })
  })
})

describe('readOnly, read as in a request', () => {
  test('a readOnly property may not be sent, and required leaves it out', () => {
    const schema = {
      type: 'object',
      required: ['id', 'name'],
      properties: { id: { type: 'integer', readOnly: true }, name: { type: 'string' } },
    }
    expect(translateSchema(schema, v30(), 's')).toEqual({
      type: 'object',
      required: ['name'],
      properties: { id: false, name: { type: 'string' } },
    })
    expect(schema.properties.id).toEqual({ type: 'integer', readOnly: true })
  })

  test('readOnly on the component a $ref names, through a chain; a loop ends', () => {
    const context: TranslateContext = {
      version: '3.1',
      keywords: new Set(),
      components: {
        Id: { $ref: '#/components/schemas/Serial' },
        Serial: { type: 'integer', readOnly: true },
        Loop: { $ref: '#/components/schemas/Loop' },
      },
    }
    const refTo = (name: string) => ({ $ref: `#/components/schemas/${name}` })
    const out = translateSchema(
      { properties: { id: refTo('Id'), loop: refTo('Loop'), name: refTo('constructor') } },
      context,
      's',
    )
    expect(out).toEqual({
      properties: {
        id: false,
        loop: { $ref: 'openapi:/components/schemas/Loop' },
        name: { $ref: 'openapi:/components/schemas/constructor' },
      },
    })
  })

  const withComponents = (components: Record<string, unknown>) =>
    ({ version: '3.1', keywords: new Set(), components }) satisfies TranslateContext
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

  test("required leaves out an allOf branch's read-only properties, in every inline branch", () => {
    const context = withComponents({ Base: { properties: { id: { readOnly: true } } } })
    const pet = {
      required: ['id', 'kind'],
      allOf: [ref('Base'), { type: 'object', required: ['id', 'name'] }],
    }
    expect(translateSchema(pet, context, 's')).toEqual({
      required: ['kind'],
      allOf: [{ $ref: 'openapi:/components/schemas/Base' }, { type: 'object', required: ['name'] }],
    })
  })

  test("required leaves out the base's read-only properties in nested inline allOf branches", () => {
    const context = withComponents({ Base: { properties: { id: { readOnly: true } } } })
    const pet = {
      allOf: [ref('Base'), { allOf: [{ allOf: [{ required: ['id', 'name'] }] }] }],
    }
    expect(translateSchema(pet, context, 's')).toEqual({
      allOf: [
        { $ref: 'openapi:/components/schemas/Base' },
        { allOf: [{ allOf: [{ required: ['name'] }] }] },
      ],
    })
  })

  test('readOnly through an allOf wrapper counts; a readOnly: false beside a $ref wins', () => {
    const context = withComponents({ Id: { type: 'integer', readOnly: true } })
    const schema = {
      properties: { a: { allOf: [ref('Id')] }, b: { ...ref('Id'), readOnly: false } },
    }
    expect(translateSchema(schema, context, 's')).toEqual({
      properties: {
        a: false,
        b: { $ref: 'openapi:/components/schemas/Id', readOnly: false },
      },
    })
  })

  test('readOnly through a $ref to a part of a component, or to a component that is a $ref', () => {
    const context = withComponents({
      Item: { properties: { id: { type: 'integer', readOnly: true } } },
      Alias: ref('Serial'),
      Serial: { type: 'string', readOnly: true },
    })
    const schema = {
      required: ['id', 'serial', 'name'],
      properties: {
        id: { $ref: '#/components/schemas/Item/properties/id' },
        serial: ref('Alias'),
      },
    }
    expect(translateSchema(schema, context, 's')).toEqual({
      required: ['name'],
      properties: { id: false, serial: false },
    })
  })

  test("a discriminator's property is never read-only in the schemas it picks among", () => {
    const cat = {
      required: ['petType'],
      properties: { petType: { type: 'string', readOnly: true } },
    }
    const order = { required: ['petType'], properties: { petType: { readOnly: true } } }
    const components = { Cat: cat, Order: order }
    const pet = { oneOf: [ref('Cat')], discriminator: { propertyName: 'petType' } }
    const discriminated = discriminatedSchemas(
      { components: { schemas: { ...components, pet } } },
      {
        components,
      },
    )
    const context = { ...withComponents(components), discriminated }
    expect(translateSchema(cat, context, 's')).toEqual(cat)
    // Another schema's property of the same name is read-only as it says.
    expect(translateSchema(order, context, 's')).toEqual({
      required: [],
      properties: { petType: false },
    })
  })

  test("in 3.1, a $ref's sibling properties count beside its target's", () => {
    const context = withComponents({ Base: { properties: { kind: { readOnly: true } } } })
    const schema = {
      $ref: '#/components/schemas/Base',
      properties: { id: { readOnly: true } },
      required: ['id', 'kind', 'name'],
    }
    expect(translateSchema(schema, context, 's')).toEqual({
      $ref: 'openapi:/components/schemas/Base',
      properties: { id: false },
      required: ['name'],
    })
  })

  test('readOnly: false, or readOnly on the object itself, changes nothing', () => {
    const schema = { readOnly: true, properties: { a: { type: 'string', readOnly: false } } }
    expect(translateSchema(schema, v31(), 's')).toEqual(schema)
  })
})

describe('references and keywords', () => {
  test('refs into components/schemas point at the components ids, escapes kept', () => {
    expect(
      translateSchema(
        {
          properties: {
            a: { $ref: '#/components/schemas/User' },
            b: { $ref: '#/components/schemas/User/properties/name' },
            c: { $ref: '#/components/schemas/a~1b%20c' },
            d: { $ref: 'https://example.com/address.json' },
          },
        },
        v31(),
        's',
      ),
    ).toEqual({
      properties: {
        a: { $ref: 'openapi:/components/schemas/User' },
        b: { $ref: 'openapi:/components/schemas/User#/properties/name' },
        c: { $ref: 'openapi:/components/schemas/a%2Fb%20c' },
        d: { $ref: 'https://example.com/address.json' },
      },
    })
  })

  test('a local ref outside components/schemas is refused', () => {
    expect(() => translateSchema({ $ref: '#/paths/~1x' }, v31(), 'here')).toThrow(
      /here: \$ref "#\/paths\/~1x" must point into #\/components\/schemas/,
    )
  })

  test('x- extensions in schema positions are collected; property names are not', () => {
    const context = v31()
    translateSchema(
      { 'x-a': 1, properties: { 'x-b': { type: 'string', 'x-c': true } } },
      context,
      's',
    )
    expect([...context.keywords].sort()).toEqual(['x-a', 'x-c'])
  })

  test('3.1 leaves nullable alone: not a 3.1 keyword, ajv reads it as its own', () => {
    expect(translateSchema({ type: 'string', nullable: true }, v31(), 's')).toEqual({
      type: 'string',
      nullable: true,
    })
  })

  test('a schema that contains itself is refused', () => {
    const loop: Record<string, unknown> = { type: 'object' }
    loop.properties = { self: loop }
    expect(() => translateSchema(loop, v31(), 's')).toThrow(/contains itself/)
  })

  test('a member named __proto__ stays a member, never the prototype', () => {
    const schema = JSON.parse('{"type":"object","__proto__":{"required":["hidden"]}}')
    const out = translateSchema(schema, v31(), 's') as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.hasOwn(out, '__proto__')).toBe(true)
    expect((out as { required?: unknown }).required).toBeUndefined()
  })

  test('a value that is not a schema is refused', () => {
    expect(() => translateSchema({ items: 'x' }, v31(), 's')).toThrow(/s\/items is not a schema/)
  })
})
