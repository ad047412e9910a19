import { encode as encodeMsgpack } from '@msgpack/msgpack'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { type SafeBodyOptions, safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks, sendBytes } from '../helpers/app.js'

// What ajv's coercion writes into a body is held to the data model, as decoded values are:
// no Infinity, no number from hex or padded text, no rounded integer.

const order = {
  type: 'object',
  properties: {
    qty: { type: 'integer', minimum: 1 },
    price: { type: 'number' },
    tags: { type: 'array', items: { type: 'number' } },
    note: { type: 'string', default: 'none' },
  },
} as const

/** The same fields in every format that can carry strings. */
type Fields = Record<string, string>
const formats: Record<string, (fields: Fields) => [string, string | Buffer]> = {
  json: (fields: Record<string, string>) => ['application/json', JSON.stringify(fields)],
  urlencoded: (fields: Record<string, string>) => [
    'application/x-www-form-urlencoded',
    new URLSearchParams(fields).toString(),
  ],
  yaml: (fields: Record<string, string>) => [
    'application/yaml',
    Object.entries(fields)
      .map(([k, v]) => `${k}: "${v}"\n`)
      .join(''),
  ],
  msgpack: (fields: Record<string, string>) => [
    'application/msgpack',
    Buffer.from(encodeMsgpack(fields)),
  ],
}

function appWith(express: (typeof frameworks)[number][1], ajv: SafeBodyOptions['ajv'], extra = {}) {
  return buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        schemas: { order },
        ajv,
        routes: {
          'POST /order': {
            schema: 'order',
            formats: ['json', 'urlencoded', 'yaml', 'msgpack'],
            ...extra,
          },
        },
      }),
    )
    app.post('/order', echo)
  })
}

describe.each(frameworks)('coercion through %s', (_name, express) => {
  const coercing = appWith(express, { coerceTypes: true })
  const plain = appWith(express, {})
  const asText = appWith(express, { coerceTypes: true }, { largeIntegers: 'string' })
  const arrays = appWith(express, { coerceTypes: 'array', useDefaults: true })

  const post = (
    app: ReturnType<typeof appWith>['app'],
    format: string,
    fields: Record<string, string>,
  ) => {
    const [type, body] = (formats[format] as (f: Fields) => [string, string | Buffer])(fields)
    return sendBytes(request(app).post('/order').set('Content-Type', type), body)
  }

  describe.each(Object.keys(formats) as string[])('%s', (format) => {
    it.each<[Fields, string]>([
      [{ qty: '1e400' }, 'an integer that overflows'],
      [{ price: '-1e400' }, 'a number that overflows'],
      [{ price: '1e999' }, 'a number that overflows'],
      [{ qty: '9007199254740993' }, 'an integer a double cannot hold'],
    ])('coerced %j (%s): 400 entity.type.unmapped; 422 without coercion', async (fields) => {
      coercing.seen.bodies.length = 0
      expectRefusal(
        await post(coercing.app, format, fields),
        400,
        'entity.type.unmapped',
        coercing.seen,
      )
      expectRefusal(
        await post(plain.app, format, fields),
        422,
        'entity.validation.failed',
        plain.seen,
      )
    })

    it.each([
      [{ qty: '0x10' }],
      [{ qty: ' 12 ' }],
      [{ price: '0b11' }],
      [{ price: '1_000' }],
      [{ price: '.5' }],
      [{ price: '+1' }],
    ])('coerced %j is not a decimal literal: 422, as without coercion', async (fields) => {
      coercing.seen.bodies.length = 0
      const res = await post(coercing.app, format, fields)
      expectRefusal(res, 422, 'entity.validation.failed', coercing.seen)
      expect(res.body.errors[0]).toMatchObject({
        keyword: 'type',
        instancePath: `/${Object.keys(fields)[0]}`,
      })
      expectRefusal(await post(plain.app, format, fields), 422, 'entity.validation.failed')
    })

    it('largeIntegers: "string" keeps 2^53 + 1 as text, which an integer schema refuses: 422', async () => {
      const res = await post(asText.app, format, { qty: '9007199254740993' })
      expectRefusal(res, 422, 'entity.validation.failed', asText.seen)
    })

    it('decimal literals are coerced exactly as a decoder reads them', async () => {
      coercing.seen.bodies.length = 0
      const res = await post(coercing.app, format, { qty: '9007199254740992', price: '-1.5e3' })
      expect(res.status).toBe(200)
      expect(coercing.seen.bodies).toEqual([{ qty: 9007199254740992, price: -1500 }])
    })

    it("coerceTypes: 'array' wraps and checks the element", async () => {
      arrays.seen.bodies.length = 0
      expectRefusal(
        await post(arrays.app, format, { tags: '1e400' }),
        400,
        'entity.type.unmapped',
        arrays.seen,
      )
      arrays.seen.bodies.length = 0
      const res = await post(arrays.app, format, { tags: '2.5' })
      expect(res.status).toBe(200)
      expect(arrays.seen.bodies).toEqual([{ tags: [2.5], note: 'none' }])
    })
  })

  it('a JSON number literal that overflows is 400 with or without coercion', async () => {
    for (const { app } of [coercing, plain]) {
      const res = await sendBytes(
        request(app).post('/order').set('Content-Type', 'application/json'),
        '{"qty":1e400}',
      )
      expectRefusal(res, 400, 'entity.type.unmapped')
    }
  })
})

describe.each(frameworks)('coercion of the body itself, through %s', (_name, express) => {
  // ajv coerces a top-level value only into a parent: without one, "false" passed as a
  // boolean and the handler got the string, which is truthy.
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        ajv: { coerceTypes: true },
        routes: {
          'POST /flag': { type: 'boolean' },
          'POST /count': { type: 'integer', maximum: 10 },
          'POST /none': { type: 'null' },
        },
      }),
    )
    app.post(['/flag', '/count', '/none'], echo)
  })
  const send = (path: string, json: string) =>
    sendBytes(request(app).post(path).set('Content-Type', 'application/json'), json)

  it('hands on the coerced value, held to the data model as a coerced member is', async () => {
    seen.bodies.length = 0
    for (const [path, json] of [
      ['/flag', '"false"'],
      ['/count', '"7"'],
      ['/none', '""'],
    ] as const) {
      expect((await send(path, json)).status).toBe(200)
    }
    expect(seen.bodies).toEqual([false, 7, null])
    seen.bodies.length = 0
    expectRefusal(await send('/count', '"0x7"'), 422, 'entity.validation.failed', seen)
    const res = await send('/count', '"70"')
    expectRefusal(res, 422, 'entity.validation.failed', seen)
  })
})

describe.each(frameworks)("coerceTypes: 'array', through %s", (_name, express) => {
  // A scalar made an array nests one level deeper and adds a value: the limits hold after.
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        ajv: { coerceTypes: 'array' },
        maxDepth: 2,
        routes: {
          'POST /int': { type: 'object', properties: { n: { type: 'integer' } } },
          'POST /deep': {
            type: 'object',
            properties: {
              a: {
                type: 'object',
                properties: { a: { type: 'array', items: { type: 'string' } } },
              },
            },
          },
        },
      }),
    )
    app.post(['/deep', '/int'], echo)
  })

  // ajv takes a one-element array for its element, writing the number where the array was.
  it('holds an element taken out of its array to the data model, as a string coerced in place', async () => {
    const send = (json: string) =>
      sendBytes(request(app).post('/int').set('Content-Type', 'application/json'), json)
    seen.bodies.length = 0
    expectRefusal(await send('{"n":["0x7"]}'), 422, 'entity.validation.failed', seen)
    expectRefusal(await send('{"n":[" 12 "]}'), 422, 'entity.validation.failed', seen)
    expectRefusal(await send('{"n":["9007199254740993"]}'), 400, 'entity.type.unmapped', seen)
    expect((await send('{"n":["7"]}')).status).toBe(200)
    expect(seen.bodies).toEqual([{ n: 7 }])
  })

  it('refuses a body that coercion made deeper than maxDepth', async () => {
    seen.bodies.length = 0
    // Two levels as sent; the string made an array is a third.
    const res = await sendBytes(
      request(app).post('/deep').set('Content-Type', 'application/json'),
      '{"a":{"a":"x"}}',
    )
    expectRefusal(res, 400, 'entity.too.deep', seen)
  })
})

describe.each(frameworks)('a deep path in a 422, through %s', (_name, express) => {
  it('is cut to 256 characters, and an allErrors list to 100: the 422 stays small', async () => {
    // 60 levels of 64-character keys, 100 bad items at the bottom: each of their paths is 3.9 KB.
    const { app, seen } = buildApp(express, (app, echo) => {
      app.post(
        '/deep',
        safeBody({ ajv: { allErrors: true } }).route({
          $id: 'node',
          anyOf: [
            { type: 'object', additionalProperties: { $ref: 'node' } },
            { type: 'array', items: { type: 'string' } },
          ],
        }),
        echo,
      )
    })
    let body: unknown = Array.from({ length: 100 }, (_, i) => i)
    for (let level = 0; level < 60; level++) body = { [`${level}`.padEnd(64, 'k')]: body }
    const res = await request(app)
      .post('/deep')
      .send(body as object)
    expectRefusal(res, 422, 'entity.validation.failed', seen)
    const paths: string[] = res.body.errors.map((e: { instancePath: string }) => e.instancePath)
    // 643 KB before both caps, for a 4.4 KB body.
    expect(JSON.stringify(res.body).length).toBeLessThan(40_000)
    expect(paths).toHaveLength(100)
    for (const path of paths) expect(path.length).toBeLessThanOrEqual(256)
    // The deepest are cut, from the root down: the first keys stay.
    const cut = paths.filter((path) => path.endsWith('…'))
    expect(cut.length).toBeGreaterThan(50)
    for (const path of cut) expect(path.startsWith(`/${'59'.padEnd(64, 'k')}/58`)).toBe(true)
  })
})

describe.each(frameworks)('a coerced key of the body in a 422, through %s', (_name, express) => {
  it('is shortened past 64 characters, in the path and in ajv params', async () => {
    const key = `k${'x'.repeat(90_000)}`
    const { app, seen } = buildApp(express, (app, echo) => {
      const bodies = safeBody({ ajv: { coerceTypes: true }, limit: '1mb' })
      app.post(
        '/coerced',
        bodies.route({ type: 'object', additionalProperties: { type: 'number' } }),
        echo,
      )
      app.post('/closed', bodies.route({ type: 'object', additionalProperties: false }), echo)
    })
    const short = `k${'x'.repeat(62)}…`
    // Hex text is no decimal number: safebody's own coercion check refuses it.
    const coerced = await request(app)
      .post('/coerced')
      .send({ [key]: '0x10' })
    expectRefusal(coerced, 422, 'entity.validation.failed', seen)
    expect(coerced.body.errors).toEqual([
      { instancePath: `/${short}`, keyword: 'type', message: 'must be a decimal number' },
    ])
    const closed = await request(app)
      .post('/closed')
      .send({ [key]: 1 })
    expectRefusal(closed, 422, 'entity.validation.failed', seen)
    expect(JSON.stringify(closed.body)).not.toContain('x'.repeat(64))
    expect(seen.errors.at(-1)).toMatchObject({
      errors: [{ keyword: 'additionalProperties', params: { additionalProperty: short } }],
    })
  })
})
