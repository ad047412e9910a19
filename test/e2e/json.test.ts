import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { address, anything, user } from '../fixtures/schemas.js'
import {
  buildApp,
  expectPrototypesUntouched,
  expectRefusal,
  frameworks,
  listen,
  sendBytes,
  untilClosed,
} from '../helpers/app.js'

describe.each(frameworks)('JSON bodies through %s', (_name, express) => {
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        schemas: { user, address, anything },
        routes: {
          'POST /users': 'user',
          'PUT /users/:id': { schema: 'https://safebody.test/user' },
          'POST /required': { schema: 'anything', required: true },
          'POST /any': 'anything',
          'POST /tight': { schema: 'anything', maxDepth: 4, maxKeys: 3, maxStringLength: 10 },
        },
      }),
    )
    app.post('/users', echo)
    app.put('/users/:id', echo)
    app.post('/required', echo)
    app.post('/any', echo)
    app.post('/tight', echo)
    app.post('/unbound', echo)
    app.get('/users', echo)
  })

  const post = (path: string, body: string | Buffer, type = 'application/json') =>
    sendBytes(request(app).post(path).set('Content-Type', type), body)

  function reset() {
    seen.bodies.length = 0
    seen.errors.length = 0
  }

  it('hands the handler the validated body', async () => {
    reset()
    const body = { name: 'Ada', age: 36, email: 'ada@example.com', address: { city: 'London' } }
    const res = await post('/users', JSON.stringify(body))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body })
    expect(seen.bodies).toEqual([body])
  })

  it('matches Express-style paths, parameters included', async () => {
    const res = await request(app).put('/users/7').send({ name: 'Ada' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: { name: 'Ada' } })
  })

  it.each([
    'application/json; charset=utf-8',
    'application/json; charset=UTF-8',
    'application/merge-patch+json',
  ])('accepts %s', async (type) => {
    const res = await post('/users', '{"name":"a"}', type)
    expect(res.status).toBe(200)
  })

  it('passes requests with no body through with req.body undefined', async () => {
    reset()
    expect((await request(app).get('/users')).body).toEqual({ body: '<undefined>' })
    const empty = await request(app).post('/users').set('Content-Length', '0')
    expect(empty.status).toBe(200)
    expect(empty.body).toEqual({ body: '<undefined>' })
    const unbound = await request(app).post('/unbound')
    expect(unbound.body).toEqual({ body: '<undefined>' })
  })

  it('refuses a missing body where the binding requires one', async () => {
    reset()
    expectRefusal(await request(app).post('/required'), 400, 'entity.missing', seen)
    expectRefusal(
      await request(app).post('/required').set('Content-Type', 'application/json').send(''),
      400,
      'entity.missing',
      seen,
    )
  })

  it('refuses a body on a route with no schema (415), as the route table is an allow-list', async () => {
    reset()
    expectRefusal(await post('/unbound', '{}'), 415, 'route.schema.missing', seen)
    expectRefusal(
      await request(app).get('/users').set('Content-Type', 'application/json').send('{}'),
      415,
      'route.schema.missing',
      seen,
    )
  })

  it.each([
    ['text/plain', 'content.type.unsupported'],
    ['application/x-www-form-urlencoded', 'content.type.unsupported'],
    ['application/json; charset=latin1', 'charset.unsupported'],
    ['application/json; charset=utf-16', 'charset.unsupported'],
  ])('refuses Content-Type %s with 415', async (type, errorType) => {
    reset()
    expectRefusal(await post('/users', '{"name":"a"}', type), 415, errorType, seen)
  })

  it('refuses a body sent with two Content-Type lines with 415, whichever comes first', async () => {
    const { server, port } = await listen(app)
    try {
      for (const [first, second] of [
        ['application/json', 'text/plain'],
        ['application/json', 'Application/JSON'],
      ]) {
        reset()
        const body = '{"name":"a"}'
        const answer = await untilClosed(
          port,
          `POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: ${first}\r\nContent-Type: ${second}\r\n` +
            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        )
        expect(answer).toMatch(/^HTTP\/1\.1 415 /)
        expect(answer).toMatch(/application\/problem\+json/)
        expect(answer).toContain('"type":"content.type.unsupported"')
        expect(answer).toContain('more than one Content-Type')
        expect(seen.bodies).toEqual([])
        expectPrototypesUntouched()
      }
    } finally {
      server.close()
    }
  })

  it('refuses a body without Content-Type with 415', async () => {
    reset()
    const res = await sendBytes(request(app).post('/users'), Buffer.from('{"name":"a"}'))
    expectRefusal(res, 415, 'content.type.unsupported', seen)
  })

  it.each([
    ['truncated', '{"name":'],
    ['trailing garbage', '{"name":"a"} x'],
    ['single quotes', "{'name':'a'}"],
    ['a comment', '{"name":"a"/* */}'],
    ['NaN', '{"name":NaN}'],
  ])('refuses malformed JSON (%s) with 400, without echoing it', async (_what, body) => {
    reset()
    const res = await post('/users', body)
    expectRefusal(res, 400, 'entity.parse.failed', seen)
    expect(res.body.detail).toBe('The body is not valid JSON.')
    expect(JSON.stringify(res.body)).not.toContain('name')
  })

  it.each([
    ['a top-level __proto__', '{"name":"a","__proto__":{"isAdmin":true}}'],
    ['a nested __proto__', '{"name":"a","address":{"city":"x","__proto__":{"isAdmin":true}}}'],
    ['__proto__ in an array', '{"name":"a","tags":[{"__proto__":{"isAdmin":true}}]}'],
    [
      '__proto__ written with \\u escapes',
      '{"name":"a","\\u005f\\u005fproto\\u005f\\u005f":{"isAdmin":true}}',
    ],
    ['__proto__ with one escaped letter', '{"name":"a","__pr\\u006fto__":{"isAdmin":true}}'],
    ['constructor.prototype', '{"name":"a","constructor":{"prototype":{"isAdmin":true}}}'],
    ['escaped constructor.prototype', '{"\\u0063onstructor":{"prot\\u006ftype":{"isAdmin":true}}}'],
    ['deep constructor.prototype', '[[[{"a":{"constructor":{"prototype":{"isAdmin":true}}}}]]]'],
  ])('refuses %s with 400 and leaves every prototype untouched', async (_what, body) => {
    reset()
    const res = await post('/any', body)
    expectRefusal(res, 400, 'entity.forbidden.key', seen)
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
    const res2 = await post('/users', body)
    expect(res2.status).toBe(400)
    expectPrototypesUntouched()
  })

  it('lets keys that merely shadow Object.prototype methods through as plain data', async () => {
    reset()
    const body = '{"hasOwnProperty":1,"toString":"x","valueOf":[],"constructor":"c"}'
    const res = await post('/any', body)
    expect(res.status).toBe(200)
    expect(res.body.body).toEqual(JSON.parse(body))
    expectPrototypesUntouched()
  })

  it.each([
    ['nesting deeper than maxDepth', '[[[[[1]]]]]', 'entity.too.deep'],
    ['more keys than maxKeys', '{"a":1,"b":2,"c":3,"d":4}', 'entity.too.many.keys'],
    ['a string longer than maxStringLength', '"abcdefghijk"', 'entity.string.too.long'],
    ['a key longer than maxStringLength', '{"abcdefghijk":1}', 'entity.string.too.long'],
  ])('refuses %s with 400', async (_what, body, type) => {
    reset()
    expectRefusal(await post('/tight', body), 400, type, seen)
  })

  it('holds the limits exactly at their values', async () => {
    expect((await post('/tight', '[[[[1]]]]')).status).toBe(200)
    expect((await post('/tight', '{"a":1,"b":2,"c":3}')).status).toBe(200)
    expect((await post('/tight', '"abcdefghij"')).status).toBe(200)
  })

  it('applies the default limits: depth 64, 1000 keys; string length follows limit', async () => {
    reset()
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
    expect((await post('/users', deep(64))).status).toBe(422)
    reset()
    expectRefusal(await post('/users', deep(65)), 400, 'entity.too.deep', seen)
    const keys = (n: number) =>
      JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 0])))
    expect((await post('/users', keys(1000))).status).toBe(422)
    expectRefusal(await post('/users', keys(1001)), 400, 'entity.too.many.keys', seen)
    // maxStringLength follows the 100kb limit (102 400): any string that fits the body passes,
    // and a longer one is refused for its size.
    const long = (n: number) => JSON.stringify({ name: 'x'.repeat(n) })
    expect((await post('/users', long(100_001))).status).toBe(200)
    reset()
    expectRefusal(await post('/users', long(102_400)), 413, 'entity.too.large', seen)
  })

  it('answers 422 with the ajv errors when the schema fails', async () => {
    reset()
    const res = await post('/users', '{"name":"","age":-1}')
    expectRefusal(res, 422, 'entity.validation.failed', seen)
    expect(res.body.errors).toEqual([
      {
        instancePath: '/name',
        keyword: 'minLength',
        message: 'must NOT have fewer than 1 characters',
      },
    ])
    const ref = await post('/users', '{"name":"a","address":{}}')
    expect(ref.status).toBe(422)
    expect(ref.body.errors[0]).toMatchObject({ instancePath: '/address', keyword: 'required' })
    const format = await post('/users', '{"name":"a","email":"nope"}')
    expect(format.body.errors[0]).toMatchObject({ instancePath: '/email', keyword: 'format' })
    const extra = await post('/users', '{"name":"a","isAdmin":true}')
    expect(extra.body.errors[0]).toMatchObject({ keyword: 'additionalProperties' })
  })

  it('never coerces: a string is not an integer', async () => {
    expect((await post('/users', '{"name":"a","age":"5"}')).status).toBe(422)
  })

  it('validates the decoded value itself: an inherited property never satisfies required', async () => {
    const poisoned = Object.prototype as Record<string, unknown>
    poisoned.name = 'inherited'
    try {
      const res = await post('/users', '{}')
      expect(res.status).toBe(422)
      expect(res.body.errors[0]).toMatchObject({ keyword: 'required' })
    } finally {
      delete poisoned.name
    }
    expectPrototypesUntouched()
  })

  it('strips a UTF-8 BOM and refuses UTF-16, UTF-32 and invalid UTF-8', async () => {
    reset()
    expect((await post('/users', Buffer.from('\ufeff{"name":"bom"}'))).body).toEqual({
      body: { name: 'bom' },
    })
    reset()
    const utf16 = Buffer.from('{"name":"a","__proto__":{"x":1}}', 'utf16le')
    expectRefusal(await post('/users', utf16), 415, 'charset.unsupported', seen)
    expectRefusal(
      await post(
        '/users',
        Buffer.from('\ufeff{"name":"a"}', 'utf16le'),
        'application/json; charset=utf-16',
      ),
      415,
      'charset.unsupported',
      seen,
    )
    const utf32 = Buffer.from([0, 0, 0, 0x7b, 0, 0, 0, 0x7d])
    expectRefusal(await post('/users', utf32), 415, 'charset.unsupported', seen)
    const invalid = Buffer.concat([
      Buffer.from('{"name":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ])
    expectRefusal(await post('/users', invalid), 400, 'entity.utf8.invalid', seen)
  })
})
