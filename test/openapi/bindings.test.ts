import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { type Format, formats } from '../../src/decoders/formats.js'
import { safeBody } from '../../src/index.js'
import { openApiRoutes } from '../../src/openapi/bindings.js'
import { loadDocument, type OpenApiDocument } from '../../src/openapi/document.js'

// Formats other branches add; here only their media types matter, to test the mapping.
const fake = (name: string, mediaTypes: string[]) =>
  ({ name, mediaTypes, textual: false, decode: () => null }) as unknown as Format
const available: Record<string, Format> = {
  ...formats,
  msgpack: fake('msgpack', ['application/msgpack', 'application/x-msgpack']),
  yaml: fake('yaml', ['application/yaml', 'application/x-yaml']),
  protobuf: fake('protobuf', ['application/x-protobuf', 'application/protobuf']),
}

const doc = (content: Record<string, unknown>, required?: boolean): OpenApiDocument => ({
  openapi: '3.1.0',
  paths: { '/users': { post: { requestBody: { content, required } } } },
})
const routesOf = (document: OpenApiDocument) =>
  openApiRoutes(loadDocument(document), available).routes

describe('requestBody -> binding', () => {
  test('every media type maps through the formats table', () => {
    const schema = { type: 'object' }
    const [[key, binding] = []] = routesOf(
      doc(
        {
          'application/json; charset=utf-8': { schema },
          'application/x-msgpack': { schema },
          'application/yaml': { schema },
          'application/x-protobuf': { schema, 'x-protobuf-message': 'demo.User' },
        },
        true,
      ),
    )
    expect(key).toBe('POST /users')
    expect(binding).toEqual({
      schema,
      required: true,
      formats: ['json', 'msgpack', 'yaml', 'protobuf'],
      message: 'demo.User',
    })
  })

  test('a media type without a schema accepts any body of the data model', () => {
    const [[, binding] = []] = routesOf(doc({ 'application/json': {} }))
    expect(binding).toEqual({ schema: true, required: false, formats: ['json'] })
  })

  test('protobuf without x-protobuf-message is refused', () => {
    expect(() => routesOf(doc({ 'application/x-protobuf': {} }))).toThrow(
      /application\/x-protobuf needs "x-protobuf-message"/,
    )
  })

  test.each([['multipart/form-data'], ['*/*'], ['application/*'], ['application/*+json']])(
    '%s is refused: safebody has no format for it',
    (mediaType) => {
      expect(() => routesOf(doc({ [mediaType]: {} }))).toThrow(/is not one safebody decodes/)
    },
  )

  test('media types with different schemas are refused: one schema per route', () => {
    expect(() =>
      routesOf(
        doc({
          'application/json': { schema: { type: 'object' } },
          'application/yaml': { schema: { type: 'array' } },
        }),
      ),
    ).toThrow(/must share one schema/)
  })

  test('an empty content is refused', () => {
    expect(() => routesOf(doc({}))).toThrow(/requestBody has no content/)
  })

  test('operation and path-item servers override the document servers', () => {
    const routes = routesOf({
      openapi: '3.0.3',
      servers: [{ url: '/v1' }],
      paths: {
        '/a': { get: {}, servers: [{ url: '/v2' }] },
        '/b': { get: { servers: [{ url: '/v3' }, { url: '/v4' }] }, post: {} },
      },
    })
    expect(routes).toEqual([
      ['GET /v2/a', null],
      ['GET /v3/b', null],
      ['GET /v4/b', null],
      ['POST /v1/b', null],
    ])
  })

  test('an unresolvable requestBody $ref is refused', () => {
    expect(() =>
      routesOf({
        openapi: '3.0.3',
        paths: { '/a': { post: { requestBody: { $ref: '#/components/requestBodies/Nope' } } } },
      }),
    ).toThrow(/points at nothing/)
  })
})

describe('start-up checks through safeBody()', () => {
  test('on this branch, an unknown media type fails at start-up', () => {
    expect(() => safeBody({ openapi: doc({ 'text/csv': {} }) })).toThrow(
      /POST \/users: media type "text\/csv" is not one safebody decodes/,
    )
  })

  // A loop of $refs that reads nothing on its way compiles in ajv, then overflows the stack
  // on every value: each request would be a 500.
  test.each([
    [
      'A -> B -> A',
      { A: { $ref: '#/components/schemas/B' }, B: { $ref: '#/components/schemas/A' } },
    ],
    ['A -> A', { A: { $ref: '#/components/schemas/A' } }],
    ['A allOf [A]', { A: { allOf: [{ $ref: '#/components/schemas/A' }] } }],
  ])('a $ref loop that reads nothing (%s) fails at start-up', (_loop, schemas) => {
    const document = {
      ...doc({ 'application/json': { schema: { $ref: '#/components/schemas/A' } } }),
      components: { schemas },
    }
    expect(() => safeBody({ openapi: document })).toThrow(
      /schema "openapi:\/components\/schemas\/[AB]" refers to itself in a loop that reads nothing/,
    )
  })

  // A loop only some values reach passes the start-up probe, then overflows the stack on
  // those values: a 500 a client can trigger at will.
  test.each([
    ['behind if', { A: { if: { const: 'go' }, then: { $ref: '#/components/schemas/A' } } }],
    [
      'behind an anyOf branch that fails first',
      {
        A: { anyOf: [{ type: 'string' }, { $ref: '#/components/schemas/B' }] },
        B: { not: { $ref: '#/components/schemas/A' } },
      },
    ],
    [
      'through a discriminator that picks its own schema',
      {
        A: { oneOf: [{ $ref: '#/components/schemas/A' }], discriminator: { propertyName: 'k' } },
      },
    ],
    [
      'through a mapping to a schema that inherits it, beside a property',
      {
        A: {
          type: 'object',
          properties: {
            pet: {
              oneOf: [{ $ref: '#/components/schemas/B' }],
              discriminator: { propertyName: 'k' },
            },
          },
        },
        B: { allOf: [{ $ref: '#/components/schemas/A/properties/pet' }] },
      },
    ],
    [
      'under a property, behind if',
      {
        A: {
          type: 'object',
          properties: {
            x: { if: { const: 'go' }, then: { $ref: '#/components/schemas/A/properties/x' } },
          },
        },
      },
    ],
  ])('a $ref loop only some values reach (%s) fails at start-up', (_loop, schemas) => {
    const document = {
      ...doc({ 'application/json': { schema: { $ref: '#/components/schemas/A' } } }),
      components: { schemas },
    }
    expect(() => safeBody({ openapi: document })).toThrow(
      /^safebody: OpenAPI document: schema "openapi:\/components\/schemas\/[AB]" refers to itself in a loop that reads nothing of the value \(#\/components\/schemas\/[AB](\/[^ ]*)? -> /,
    )
  })

  test('a $ref loop through an $id inside a component fails at start-up', () => {
    const inner = 'https://example.com/inner'
    const A = {
      type: 'object',
      properties: { y: { $id: inner, anyOf: [{ type: 'number' }, { $ref: inner }] } },
    }
    const document = {
      ...doc({ 'application/json': { schema: { $ref: '#/components/schemas/A' } } }),
      components: { schemas: { A } },
    }
    expect(() => safeBody({ openapi: document })).toThrow(
      `safebody: OpenAPI document: schema "${inner}" refers to itself in a loop that reads nothing of the value (${inner} -> ${inner}#/anyOf/1 -> ${inner}:`,
    )
  })

  test('a $ref loop through a schemas entry and back fails at start-up', () => {
    const user = 'https://example.com/user'
    const document = {
      ...doc({ 'application/json': { schema: { $ref: '#/components/schemas/A' } } }),
      components: { schemas: { A: { anyOf: [{ type: 'number' }, { $ref: user }] } } },
    }
    const schemas = {
      user: { $id: user, if: { const: 'go' }, then: { $ref: 'openapi:/components/schemas/A' } },
    }
    expect(() => safeBody({ openapi: document, schemas })).toThrow(
      `safebody: schema "user" refers to itself in a loop that reads nothing of the value (${user} -> ${user}#/then -> openapi:/components/schemas/A -> openapi:/components/schemas/A#/anyOf/1 -> ${user}:`,
    )
  })

  // A YAML document up to the schema of POST /p's JSON body.
  const postP = [
    'openapi: 3.1.0',
    "info: {title: t, version: '1'}",
    'paths:',
    '  /p:',
    '    post:',
    '      requestBody:',
    '        content:',
    '          application/json:',
  ]

  // Aliases of aliases: each level doubles what ajv would compile (2^n schema objects from a
  // file of a few hundred bytes), minutes of start-up and hundreds of MB at 14 levels.
  const aliasBomb = (levels: number) => {
    const anchors = Array.from({ length: levels }, (_, i) => i)
    let schema = '&l0 {type: string}'
    for (const i of anchors.slice(1)) schema = `&l${i} {anyOf: [${schema}, *l${i - 1}]}`
    return [...postP, `            schema: ${schema}`].join('\n')
  }

  /** safeBody() on a document read from a YAML file of `text`. */
  const fromFile = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'safebody-openapi-'))
    try {
      const file = join(dir, 'document.yaml')
      writeFileSync(file, text)
      return safeBody({ openapi: file })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  test('a document whose aliases repeat past 10000 objects fails at start-up', () => {
    expect(() => fromFile(aliasBomb(30))).toThrow(
      /document\.yaml" repeats more than 10000 objects \(YAML aliases.*\$ref it/,
    )
    // A few aliases, as documents use them, load; each place gets its own copy.
    expect(typeof fromFile(aliasBomb(8))).toBe('function')
  })

  test.each(['enum', 'const', 'default', 'example'])(
    'so does a document whose aliases repeat data inside a schema (%s)',
    (keyword) => {
      // Data in a schema is compiled (enum, const) or copied with the route's schema.
      const levels = ['- &a0 [x, x]']
      for (let i = 1; i < 30; i++) levels.push(`- &a${i} [*a${i - 1}, *a${i - 1}]`)
      const lines = [
        ...postP,
        '            schema:',
        '              type: array',
        `              ${keyword}:`,
        ...levels.map((level) => `                ${level}`),
      ]
      expect(() => fromFile(lines.join('\n'))).toThrow(/repeats more than 10000 objects/)
    },
  )

  test('anchors shared by hundreds of operations load: responses, and a requestBody', () => {
    // 400 operations, each with the same 30-object responses and body schema: 24,000
    // repeated objects, of which the compiled ones are one schema, translated once.
    const props = Array.from({ length: 14 }, (_, i) => `        f${i}: {type: string}`)
    const lines = [
      'openapi: 3.1.0',
      "info: {title: t, version: '1'}",
      'x-shared:',
      '  errors: &errors',
      ...Array.from({ length: 10 }, (_, i) => [
        `    '4${i}0':`,
        '      description: e',
        '      content: {application/json: {schema: {$ref: "#/components/schemas/E"}}}',
      ]).flat(),
      '  body: &body',
      '    content:',
      '      application/json:',
      '        schema:',
      '          type: object',
      '          properties:',
      ...props.map((p) => `    ${p}`),
      'paths:',
      ...Array.from({ length: 400 }, (_, i) => [
        `  /things${i}:`,
        '    post: {requestBody: *body, responses: *errors}',
      ]).flat(),
      'components: {schemas: {E: {type: object}}}',
    ]
    expect(typeof fromFile(lines.join('\n'))).toBe('function')
  })

  test('so does a document given as an object that uses one object in many places', () => {
    let schema: object = { type: 'string' }
    for (let i = 0; i < 30; i++) schema = { anyOf: [schema, schema] }
    expect(() => safeBody({ openapi: doc({ 'application/json': { schema } }) })).toThrow(
      /OpenAPI document repeats more than 10000 objects/,
    )
  })

  test('a recursive schema that reads the value on its way (a tree) loads', () => {
    const node = {
      type: 'object',
      properties: { kids: { type: 'array', items: { $ref: '#/components/schemas/Node' } } },
    }
    const document = {
      ...doc({ 'application/json': { schema: { $ref: '#/components/schemas/Node' } } }),
      components: { schemas: { Node: node } },
    }
    expect(() => safeBody({ openapi: document })).not.toThrow()
  })

  test('a malformed percent-escape in a $ref, and nesting too deep to load, are named', () => {
    expect(() =>
      safeBody({
        openapi: doc({ 'application/json': { schema: { $ref: '#/components/schemas/%E0%A4%A' } } }),
      }),
    ).toThrow(
      'safebody: OpenAPI document: POST /users application/json: $ref "#/components/schemas/%E0%A4%A" has a malformed percent-escape',
    )
    let deep: Record<string, unknown> = { type: 'string' }
    for (let i = 0; i < 5000; i++) deep = { type: 'object', properties: { a: deep } }
    expect(() => safeBody({ openapi: doc({ 'application/json': { schema: deep } }) })).toThrow(
      /^safebody: OpenAPI document: POST \/users application\/json is nested too deeply to load$/,
    )
    expect(() =>
      safeBody({
        openapi: {
          openapi: '3.1.0',
          paths: { '/x': { post: { requestBody: { $ref: '#/components/requestBodies/%ZZ' } } } },
        },
      }),
    ).toThrow(
      /^safebody: OpenAPI document: POST \/x requestBody: \$ref "#\/components\/requestBodies\/%ZZ" points at nothing/,
    )
  })

  test('OpenAPI annotation keywords and x- extensions compile under strict ajv', () => {
    const schema = {
      type: 'object',
      example: { a: 1 },
      externalDocs: { url: 'https://example.com' },
      xml: { name: 'a' },
      discriminator: { propertyName: 'kind' },
      'x-vendor': true,
    }
    expect(() => safeBody({ openapi: doc({ 'application/json': { schema } }) })).not.toThrow()
  })
})
