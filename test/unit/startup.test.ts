import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import express from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { type JsonSchema, problemDetails, safeBody } from '../../src/index.js'

const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }

describe('start-up errors say what was meant', () => {
  it('shows both forms when route keys sit among options', () => {
    expect(() => safeBody({ 'POST /x': schema, limit: '1mb' } as never)).toThrow(
      /"POST \/x" is a route, but it sits among safeBody\(\) options.*safeBody\(\{ 'POST \/x': schema \}\).*routes: \{ 'POST \/x': schema \}/,
    )
  })

  it('suggests the nearest known option for a typo, and names where it is', () => {
    expect(() => safeBody({ maxDeph: 3 } as never)).toThrow(
      'safebody: unknown option "maxDeph" in safeBody() options; did you mean "maxDepth"?',
    )
    expect(() => safeBody({ routes: { 'POST /x': { schema, requird: true } as never } })).toThrow(
      'safebody: unknown option "requird" in route "POST /x"; did you mean "required"?',
    )
    // Three edits from "maxDepth", beyond a seven-letter name's bound of two: refused, no hint.
    expect(() => safeBody({ maxDeep: 3 } as never)).toThrow(
      /unknown option "maxDeep" in safeBody\(\) options$/,
    )
    expect(() => safeBody({ zzzz: 1 } as never)).toThrow(
      /unknown option "zzzz" in safeBody\(\) options$/,
    )
  })

  it('refuses a schema whose $ref loop reads nothing of the value, and takes a tree', () => {
    expect(() =>
      safeBody({ routes: { 'POST /x': { $id: 'loop', allOf: [{ $ref: 'loop' }] } } }),
    ).toThrow(/schema "loop" refers to itself in a loop that reads nothing of the value/)
    expect(() => safeBody({ routes: { 'POST /x': { $id: 'self', $ref: '#' } } })).toThrow(
      /schema "self" refers to itself in a loop/,
    )
    const tree = {
      $id: 'tree',
      type: 'object',
      properties: { kids: { type: 'array', items: { $ref: 'tree' } } },
    }
    expect(() => safeBody({ routes: { 'POST /x': tree } })).not.toThrow()
  })

  // A loop only some values reach passes the start-up probe (null, true, 0, '', [], {}), then
  // overflows the stack on the values that reach it: a 500 a client could ask for at will.
  it.each([
    [
      'behind if, under a property',
      {
        properties: { x: { $ref: '#/$defs/t' } },
        $defs: { t: { if: { const: 'go' }, then: { $ref: '#/$defs/t' } } },
      },
      'loop',
    ],
    [
      'through a nested absolute $id',
      {
        properties: {
          y: {
            $id: 'https://example.com/inner',
            anyOf: [{ type: 'number' }, { $ref: 'https://example.com/inner' }],
          },
        },
      },
      'https://example.com/inner',
    ],
    [
      'through a nested relative $id',
      {
        $id: 'https://example.com/outer',
        properties: { y: { $id: 'inner', anyOf: [{ type: 'number' }, { $ref: 'inner' }] } },
      },
      'https://example.com/inner',
    ],
    [
      'through an $anchor, behind not',
      { properties: { y: { $anchor: 'a', anyOf: [{ type: 'number' }, { not: { $ref: '#a' } }] } } },
      'loop',
    ],
    ['into another registered schema', { properties: { z: { $ref: 'other' } } }, 'other'],
    [
      'under a property named default',
      {
        properties: { default: { anyOf: [{ type: 'number' }, { $ref: '#/properties/default' }] } },
      },
      'loop',
    ],
    [
      'through a $dynamicAnchor',
      { properties: { a: { $dynamicAnchor: 'n', anyOf: [{ type: 'number' }, { $ref: '#n' }] } } },
      'loop',
    ],
    [
      'through a $dynamicRef',
      {
        properties: { a: { $ref: '#/$defs/d' } },
        $defs: { d: { $dynamicAnchor: 'n', anyOf: [{ type: 'number' }, { $dynamicRef: '#n' }] } },
      },
      'loop',
    ],
  ])('refuses a $ref loop only some values reach (%s)', (_where, loop, uri) => {
    const other = { $id: 'other', anyOf: [{ type: 'string' }, { allOf: [{ $ref: 'other' }] }] }
    const schemas: Record<string, JsonSchema> = uri === 'other' ? { loop, other } : { loop }
    expect(() => safeBody({ schemas, routes: { 'POST /x': 'loop' } })).toThrow(
      `refers to itself in a loop that reads nothing of the value (${uri}`,
    )
    // Inline in a route, as well as registered.
    if (uri !== 'other') {
      expect(() => safeBody({ routes: { 'POST /x': loop } })).toThrow(
        /refers to itself in a loop that reads nothing of the value/,
      )
    }
  })

  it('finds a loop in a schema object two schemas share, in each', () => {
    // `#` names the schema it is in: the shared object loops in the route, not in `a`.
    const shared = { if: { const: 'go' }, then: { $ref: '#' } }
    const a = { $id: 'a', type: 'object', properties: { s: shared } }
    expect(() => safeBody({ schemas: [a], routes: { 'POST /x': 'a' } })).not.toThrow()
    expect(() => safeBody({ schemas: [a], routes: { 'POST /x': shared } })).toThrow(
      /schema "inline schema" refers to itself in a loop that reads nothing of the value \(# -> #/,
    )
    const b = { $id: 'b', allOf: [shared] }
    expect(() => safeBody({ schemas: [a, b], routes: { 'POST /x': 'a' } })).toThrow(
      'schema "b" refers to itself in a loop that reads nothing of the value (b -> b#/allOf/0 -> b#/allOf/0/then -> b:',
    )
  })

  // From the second review of the loop check: each of these started, then a value overflowed.
  it.each([
    [
      "a draft-07 `$id: '#name'` anchor, inline",
      {
        ajv: { draft: '07' as const },
        routes: {
          'POST /x': {
            properties: { a: { $ref: '#foo' } },
            definitions: { f: { $id: '#foo', anyOf: [{ type: 'number' }, { $ref: '#foo' }] } },
          },
        },
      },
    ],
    [
      'an object both under an x- key and under properties',
      (() => {
        const s = { anyOf: [{ type: 'number' }, { $ref: '#/properties/a' }] }
        return {
          ajv: { strict: false },
          routes: { 'POST /x': { properties: { a: s }, 'x-data': s } },
        }
      })(),
    ],
    [
      'a root with a relative $id of two segments',
      {
        schemas: {
          a: { $id: 'dir/a.json', if: { minLength: 1 }, then: { $ref: '../b' } },
          b: { if: { minLength: 1 }, then: { $ref: 'dir/a.json' } },
        },
        routes: { 'POST /x': 'b' },
      },
    ],
    [
      'a $dynamicRef with no anchor in scope, in a definition a $ref names',
      {
        routes: {
          'POST /x': {
            properties: { a: { $ref: '#/$defs/L' } },
            $defs: { L: { if: { const: 'go' }, then: { $dynamicRef: '#n' } } },
          },
        },
      },
    ],
  ])('refuses a loop through %s', (_through, options) => {
    expect(() => safeBody(options)).toThrow(/refers to itself in a loop that reads nothing/)
  })

  // From the fourth review: each of these started, then the body shown got a 500 (ajv alone
  // overflows on it, as checked first).
  it.each([
    [
      'a definition a $ref names, through a property of it',
      {
        order: {
          $id: 'https://example.com/order',
          $ref: '#/$defs/Order',
          $defs: {
            Order: { type: 'object', properties: { note: { $ref: '#/$defs/Note' } } },
            Note: { anyOf: [{ type: 'string' }, { $ref: '#/$defs/Note' }] },
          },
        },
      },
      'order',
      { note: 'hi' },
      '2020-12',
    ],
    [
      'a draft-07 definition a $ref names, through its items',
      {
        list: {
          $id: 'https://example.com/list',
          type: 'object',
          properties: { list: { $ref: '#/definitions/List' } },
          definitions: {
            List: { type: 'array', items: { $ref: '#/definitions/Item' } },
            Item: { if: { type: 'integer', minimum: 10 }, then: { $ref: '#/definitions/Item' } },
          },
        },
      },
      'list',
      { list: [1, 10] },
      '07',
    ],
    [
      'a $dynamicRef entered by a $ref into a definition, its root anchor never passed',
      {
        a: { $id: 'https://example.com/a', $ref: 'b#/$defs/x' },
        b: {
          $id: 'https://example.com/b',
          $dynamicAnchor: 'n',
          type: 'object',
          $defs: { x: { if: { type: 'number', minimum: 1 }, then: { $dynamicRef: '#n' } } },
        },
      },
      'a',
      5,
      '2020-12',
    ],
    [
      'a $dynamicAnchor under a property, and a $dynamicRef beside it',
      {
        m: {
          $id: 'https://example.com/m',
          type: 'object',
          properties: {
            p: { $dynamicAnchor: 'n', anyOf: [{ type: 'string' }, { $dynamicRef: '#n' }] },
          },
        },
      },
      'm',
      { p: 'x' },
      '2020-12',
    ],
    // From the fifth review.
    [
      'a $dynamicRef whose document has its anchor only where nothing applies it',
      {
        e: {
          $id: 'https://example.com/e',
          $dynamicAnchor: 'n',
          type: 'object',
          properties: { p: { $ref: 'https://example.com/d#/$defs/F' } },
        },
        d: {
          $id: 'https://example.com/d',
          $defs: {
            F: { anyOf: [{ type: 'string' }, { $dynamicRef: '#n' }] },
            Unused: { $dynamicAnchor: 'n', type: 'object' },
          },
        },
      },
      'e',
      { p: 'x' },
      '2020-12',
    ],
    [
      'one schema object in two resources of a document, each reading its $ref its own way',
      (() => {
        const shared = { anyOf: [{ type: 'string' }, { $ref: '#/$defs/L' }] }
        return {
          d: {
            $id: 'https://example.com/d',
            type: 'object',
            properties: { a: shared, b: { $ref: 'https://example.com/sub' } },
            $defs: {
              L: { type: 'integer' },
              S: {
                $id: 'https://example.com/sub',
                type: 'object',
                properties: { c: shared },
                $defs: { L: { anyOf: [{ type: 'boolean' }, { $ref: '#/$defs/L' }] } },
              },
            },
          },
        }
      })(),
      'd',
      { b: { c: 1 } },
      '2020-12',
    ],
    // From the sixth review.
    [
      'one schema object in ten resources of a document',
      (() => {
        const shared = { anyOf: [{ type: 'string' }, { $ref: '#/$defs/L' }] }
        const properties: Record<string, unknown> = {}
        const $defs: Record<string, unknown> = {}
        for (let i = 0; i < 10; i++) {
          properties[`p${i}`] = { $ref: `https://example.com/s${i}` }
          const L =
            i === 0
              ? {
                  anyOf: [{ type: 'boolean' }, { if: { minimum: 5 }, then: { $ref: '#/$defs/L' } }],
                }
              : { type: 'integer' }
          $defs[`s${i}`] = {
            $id: `https://example.com/s${i}`,
            type: 'object',
            properties: { c: shared },
            $defs: { L },
          }
        }
        return { d: { $id: 'https://example.com/d', type: 'object', properties, $defs } }
      })(),
      'd',
      { p0: { c: 7 } },
      '2020-12',
    ],
    [
      "a $dynamicAnchor in a nested resource, whose $ref ajv reads against the document's root",
      {
        d: {
          $id: 'https://example.com/d',
          type: 'object',
          properties: {
            a: {
              $id: 'https://example.com/sub',
              $dynamicAnchor: 'n',
              anyOf: [
                { type: 'object', properties: { b: { $dynamicRef: '#n' } } },
                { $ref: '#/$defs/x' },
              ],
              $defs: { x: { type: 'integer' } },
            },
          },
          $defs: {
            x: { anyOf: [{ type: 'string' }, { if: { minimum: 5 }, then: { $ref: '#/$defs/x' } }] },
          },
        },
      },
      'd',
      { a: { b: 7 } },
      '2020-12',
    ],
    [
      "2019-09's $recursiveRef",
      {
        t: {
          $id: 'https://example.com/t',
          anyOf: [{ type: 'string' }, { if: { minimum: 5 }, then: { $recursiveRef: '#' } }],
        },
      },
      't',
      7,
      '2020-12',
    ],
    // From the eighth review.
    [
      "a $ref to '#/', which ajv reads as '#', the root",
      {
        l: {
          $id: 'https://example.com/l',
          anyOf: [{ type: 'string' }, { if: { minimum: 5 }, then: { $ref: 'l#/' } }],
        },
      },
      'l',
      7,
      '2020-12',
    ],
    [
      "a draft-07 $id with a fragment ('https://example.com/r#foo'), beside the loop",
      {
        r: {
          $id: 'https://example.com/r',
          type: 'object',
          properties: { a: { $ref: '#/definitions/L' } },
          definitions: {
            L: { anyOf: [{ type: 'string' }, { $ref: '#/definitions/L' }] },
            n: { $id: 'https://example.com/r#foo', type: 'object' },
          },
        },
      },
      'r',
      { a: 1 },
      '07',
    ],
    [
      'a draft-07 $id naming another document with a fragment, whose $refs are read there',
      {
        o: {
          $id: 'https://example.com/o',
          definitions: {
            L: {
              anyOf: [
                { type: 'string' },
                { if: { minimum: 5 }, then: { $ref: '#/definitions/L' } },
              ],
            },
          },
        },
        r: {
          $id: 'https://example.com/r',
          type: 'object',
          properties: {
            a: {
              $id: 'https://example.com/o#foo',
              type: 'object',
              properties: { b: { $ref: '#/definitions/L' } },
            },
          },
          definitions: { L: { type: 'string' } },
        },
      },
      'r',
      { a: { b: 7 } },
      '07',
    ],
    [
      "an $id under prefixItems (which ajv does not index) equal to its document's",
      {
        l: {
          $id: 'https://example.com/l',
          anyOf: [{ type: 'string' }, { if: { minimum: 5 }, then: { $ref: '#' } }],
          $defs: { u: { type: 'array', prefixItems: [{ $id: 'https://example.com/l' }] } },
        },
      },
      'l',
      7,
      '2020-12',
    ],
    [
      'two $ids that fast-uri normalises alike, which ajv keeps apart',
      {
        l: {
          $id: 'https://example.com/l',
          anyOf: [{ type: 'string' }, { if: { minimum: 5 }, then: { $ref: '#' } }],
        },
        m: { $id: 'HTTPS://EXAMPLE.COM/l', type: 'object' },
      },
      'l',
      7,
      '2020-12',
    ],
  ] as const)('refuses a loop through %s', (_through, schemas, route, body, draft) => {
    const ajv = draft === '07' ? new Ajv({ strict: false }) : new Ajv2020({ strict: false })
    for (const one of Object.values(schemas)) ajv.addSchema(one)
    const validate = ajv.getSchema((schemas as Record<string, { $id: string }>)[route]?.$id ?? '')
    expect(() => validate?.(body)).toThrow(RangeError)
    expect(() =>
      safeBody({
        schemas: schemas as Record<string, JsonSchema>,
        routes: { 'POST /x': route },
        ajv: { draft },
      }),
    ).toThrow(/refers to itself in a loop that reads nothing of the value/)
  })

  it.each([
    ['a document of many resources with many dynamic anchor names', 'many-anchors.ts'],
    ['a chain of schemas each reached two ways, a $dynamicRef at its end', 'diamond.ts'],
    ['a chain of pairs, each with a $dynamicAnchor no $dynamicRef asks for', 'unasked-anchors.ts'],
  ])('checks %s in time', (_what, fixture) => {
    // A deadline many times what it takes, not a speed measure: the check it guards against
    // took minutes (see the fixture).
    const child = fileURLToPath(new URL(`../fixtures/loops/${fixture}`, import.meta.url))
    const out = execFileSync(process.execPath, ['--import', 'tsx', child], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(out).toBe('started')
  })

  it('follows no $dynamicRef or $recursiveRef under draft-07, whose ajv ignores them', () => {
    // From the seventh review: ajv (draft-07, strict off) validates 1 and 'a' without a loop.
    const schema = {
      $id: 'https://example.com/t07',
      anyOf: [{ type: 'string' }, { $recursiveRef: '#' }, { $dynamicRef: '#n' }],
    }
    const ajv = new Ajv({ strict: false })
    expect([ajv.compile(schema)(1), ajv.compile(schema)('a')]).toEqual([true, true])
    expect(() =>
      safeBody({
        schemas: [schema],
        routes: { 'POST /x': schema.$id },
        ajv: { draft: '07', strict: false },
      }),
    ).not.toThrow()
    // Under 2020-12 they are followed: the same schema loops there.
    expect(() =>
      safeBody({ schemas: [schema], routes: { 'POST /x': schema.$id }, ajv: { strict: false } }),
    ).toThrow(/refers to itself in a loop/)
  })

  // From the eighth review: each was refused at start-up, though ajv never applies the schema
  // the loop is under (an annotation, a keyword without its partner, or one the dialect lacks).
  it.each<[string, Record<string, unknown>, '2020-12' | '07', boolean]>([
    ['contentSchema, an annotation', { contentSchema: { $ref: '#/$defs/L' } }, '2020-12', true],
    ['then without if', { then: { $ref: '#/$defs/L' } }, '2020-12', false],
    ['else without if', { else: { $ref: '#/$defs/L' } }, '2020-12', false],
    ['if without then or else', { if: { $ref: '#/$defs/L' } }, '2020-12', false],
    ['additionalItems under 2020-12', { additionalItems: { $ref: '#/$defs/L' } }, '2020-12', false],
    [
      'dependentSchemas under draft-07',
      { dependentSchemas: { a: { $ref: '#/$defs/L' } } },
      '07',
      false,
    ],
    ['prefixItems under draft-07', { prefixItems: [{ $ref: '#/$defs/L' }] }, '07', false],
    [
      'unevaluatedProperties under draft-07',
      { unevaluatedProperties: { $ref: '#/$defs/L' } },
      '07',
      false,
    ],
    // From the ninth review: ajv skips an `if` whose `then` and `else` run no keyword.
    ['if, then a title', { if: { $ref: '#/$defs/L' }, then: { title: 't' } }, '2020-12', true],
    ['if, else only $defs', { if: { $ref: '#/$defs/L' }, else: { $defs: {} } }, '2020-12', true],
    [
      'if, then an unknown keyword',
      { if: { $ref: '#/$defs/L' }, then: { foo: 1 } },
      '2020-12',
      false,
    ],
    // From the tenth review: draft-07's ajv skips an anyOf with a branch that is always valid.
    [
      'a draft-07 anyOf beside a title',
      { anyOf: [{ title: 't' }, { $ref: '#/$defs/L' }] },
      '07',
      true,
    ],
    ['a draft-07 anyOf beside true', { anyOf: [true, { $ref: '#/$defs/L' }] }, '07', true],
  ])('starts with a loop under %s, which ajv does not apply', async (_what, at, draft, strict) => {
    const schema = { ...at, $defs: { L: { anyOf: [{ type: 'string' }, { $ref: '#/$defs/L' }] } } }
    const ajv = draft === '07' ? new Ajv({ strict }) : new Ajv2020({ strict })
    const validate = ajv.compile(schema)
    for (const value of [1, 'a', [1], { a: 1 }]) expect(() => validate(value)).not.toThrow()
    const app = express()
    app.use(
      safeBody({ schemas: { s: schema }, routes: { 'POST /x': 's' }, ajv: { draft, strict } }),
    )
    app.post('/x', (_req, res) => res.json({ ok: true }))
    await request(app).post('/x').send('"a"').type('json').expect(200)
  })

  // From the ninth review: each started, as a route's own schema, then the body shown got a 500
  // (ajv alone overflows on it, as checked first).
  it.each<[string, Record<string, unknown>, unknown, '2020-12' | '07', boolean]>([
    [
      'a draft-07 root $id with a fragment, whose $refs are read against its resource',
      {
        $id: 'https://example.com/o#foo',
        properties: { a: { $ref: '#/definitions/L' } },
        definitions: {
          L: { anyOf: [{ type: 'string' }, { $ref: 'https://example.com/o#/definitions/L' }] },
        },
      },
      { a: 1 },
      '07',
      false,
    ],
    [
      'an anchor name two schemas of a schema without $id have (one under prefixItems)',
      {
        type: 'object',
        properties: { a: { $ref: '#n' } },
        $defs: {
          B: {
            type: 'array',
            prefixItems: [{ $dynamicAnchor: 'n', type: 'string' }],
            items: false,
          },
          A: { $dynamicAnchor: 'n', anyOf: [{ type: 'string' }, { $ref: '#n' }] },
        },
      },
      { a: 1 },
      '2020-12',
      true,
    ],
    [
      "the same under draft-07, with $id: '#n'",
      {
        prefixItems: [{ $id: '#n' }],
        definitions: { A: { $id: '#n', anyOf: [{ type: 'string' }, { $ref: '#n' }] } },
        properties: { a: { $ref: '#n' } },
      },
      { a: 1 },
      '07',
      false,
    ],
  ])('refuses a route schema with a loop through %s', (_through, schema, body, draft, strict) => {
    const ajv = draft === '07' ? new Ajv({ strict }) : new Ajv2020({ strict })
    const validate = ajv.compile(schema)
    expect(() => validate(body)).toThrow(RangeError)
    expect(() => safeBody({ routes: { 'POST /x': schema }, ajv: { draft, strict } })).toThrow(
      /refers to itself in a loop that reads nothing of the value/,
    )
  })

  it('refuses a route schema whose dynamic anchor a $dynamicRef checked before goes back to', () => {
    // From the ninth review: `d` was checked first, and the $dynamicRef in it found no loop;
    // the route's schema, added later, sets `m` at its root, where that $dynamicRef goes.
    const d = {
      $id: 'https://example.com/D',
      $dynamicAnchor: 'm',
      type: 'object',
      properties: { a: { $dynamicRef: '#m' } },
    }
    const route = {
      $dynamicAnchor: 'm',
      anyOf: [
        { type: 'string' },
        { allOf: [{ const: 7 }, { $ref: 'https://example.com/D#/properties/a' }] },
      ],
    }
    const ajv = new Ajv2020()
    ajv.addSchema(d)
    const validate = ajv.compile(route)
    expect(() => validate(7)).toThrow(RangeError)
    expect(() => safeBody({ schemas: { d }, routes: { 'POST /x': route } })).toThrow(
      /refers to itself in a loop that reads nothing of the value/,
    )
  })

  it('says so, naming the schema, when a chain is too long to check for loops', () => {
    const $defs: Record<string, unknown> = { d6000: { type: 'integer' } }
    for (let i = 0; i < 6000; i++) {
      $defs[`d${i}`] = { anyOf: [{ type: 'string' }, { $ref: `#/$defs/d${i + 1}` }] }
    }
    expect(() =>
      safeBody({
        schemas: { chain: { $ref: '#/$defs/d0', $defs } },
        routes: { 'POST /x': 'chain' },
      }),
    ).toThrow(
      'safebody: schema "chain" applies schemas to one value in a chain of $ref, allOf, anyOf and the like too long to check for loops',
    )
  })

  it('names each schema on a loop by its own resource and pointer, and leaves an unused one', () => {
    const a = {
      $id: 'https://example.com/a',
      properties: { p: { $ref: 'https://example.com/x#/$defs/y' } },
    }
    const x = {
      $id: 'https://example.com/x',
      $defs: { y: { if: { const: 'go' }, then: { $ref: 'https://example.com/a#/properties/p' } } },
    }
    expect(() => safeBody({ schemas: [a, x], routes: { 'POST /x': a.$id } })).toThrow(
      '(https://example.com/a#/properties/p -> https://example.com/x#/$defs/y -> https://example.com/x#/$defs/y/then -> https://example.com/a#/properties/p:',
    )
    // A definition no $ref names applies to no value.
    const unused = { $defs: { l: { if: { const: 'go' }, then: { $ref: '#/$defs/l' } } } }
    expect(() => safeBody({ routes: { 'POST /x': unused } })).not.toThrow()
  })

  it('takes a 2020-12 extensible tree: a $dynamicRef to the anchor at its root', async () => {
    const tree = {
      $id: 'https://example.com/tree',
      $dynamicAnchor: 'node',
      type: 'object',
      properties: {
        children: { type: 'array', items: { $ref: '#/$defs/child' } },
        next: { anyOf: [{ type: 'null' }, { $dynamicRef: '#node' }] },
      },
      $defs: { child: { $dynamicRef: '#node' } },
    }
    const app = express()
    app.use(safeBody({ schemas: [tree], routes: { 'POST /x': tree.$id } }))
    app.post('/x', (req, res) => res.json(req.body))
    app.use(problemDetails())
    const body = { children: [{ children: [] }], next: { next: null } }
    const ok = await request(app).post('/x').send(body)
    expect([ok.status, ok.body]).toEqual([200, body])
    const bad = await request(app)
      .post('/x')
      .send({ children: [1] })
    expect([bad.status, bad.body.type]).toEqual([422, 'entity.validation.failed'])
    expect(Object.prototype).toEqual({})
  })

  it('fails at once on a schema that contains itself, whatever its $id', () => {
    const cyclic: Record<string, unknown> = { $id: 'a/b', type: 'object', properties: {} }
    ;(cyclic.properties as Record<string, unknown>).self = cyclic
    expect(() => safeBody({ routes: { 'POST /x': cyclic } })).toThrow(/circular/)
  })

  it('leaves a loop in data no keyword applies (an x- extension, a custom keyword)', () => {
    const schema = { type: 'object', 'x-doc': { $id: 'doc', allOf: [{ $ref: 'doc' }] } }
    expect(() =>
      safeBody({ ajv: { keywords: ['x-doc'] }, routes: { 'POST /x': schema } }),
    ).not.toThrow()
  })

  it('takes recursion that reads into the value, and validates through it', async () => {
    const node = {
      $id: 'node',
      type: 'object',
      properties: {
        name: { type: 'string' },
        next: { anyOf: [{ type: 'null' }, { $ref: 'node' }] },
        kids: { type: 'array', items: { $ref: '#' } },
      },
      required: ['name'],
    }
    const app = express()
    app.use(safeBody({ schemas: [node], routes: { 'POST /x': 'node' } }))
    app.post('/x', (req, res) => res.json(req.body))
    app.use(problemDetails())
    const body = { name: 'a', next: { name: 'b', next: null }, kids: [{ name: 'c' }] }
    const ok = await request(app).post('/x').send(body)
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual(body)
    const bad = await request(app)
      .post('/x')
      .send({ name: 'a', next: { next: null } })
    expect(bad.status).toBe(422)
    expect(bad.body.type).toBe('entity.validation.failed')
    expect(Object.prototype).toEqual({})
  })

  it('refuses an ajv $async schema, whose promise would be taken for a pass', () => {
    const schema = { $async: true, type: 'object', required: ['n'] }
    expect(() => safeBody({ routes: { 'POST /x': schema } })).toThrow(
      /schema "inline schema" is an ajv \$async schema, which safebody does not run/,
    )
  })

  it('takes an inline schema in routes, as well as an id or a binding', async () => {
    const app = express()
    app.use(
      safeBody({
        schemas: { s: schema },
        routes: { 'POST /inline': schema, 'POST /id': 's', 'POST /binding': { schema: 's' } },
      }),
    )
    app.post(['/inline', '/id', '/binding'], (req, res) => res.json(req.body))
    app.use(((err, _req, res, _next) =>
      res.status(err.status).json({ type: err.type })) as express.ErrorRequestHandler)
    for (const path of ['/inline', '/id', '/binding']) {
      expect((await request(app).post(path).send({ a: 1 })).status).toBe(200)
      const bad = await request(app).post(path).send({ a: 'x' })
      expect(bad.status).toBe(422)
      expect(bad.body.type).toBe('entity.validation.failed')
    }
    expect(Object.prototype).not.toHaveProperty('a')
  })

  it('names the route when a binding is neither an id, a schema nor a binding', () => {
    expect(() => safeBody({ routes: { 'POST /x': 42 as never } })).toThrow(
      /route "POST \/x" must be/,
    )
  })
})
