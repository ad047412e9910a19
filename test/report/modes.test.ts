import { gzipSync } from 'node:zlib'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import {
  buildApp,
  expectPrototypesUntouched,
  expectRefusal,
  frameworks,
  listen,
  sendBytes,
  untilClosed,
} from '../helpers/app.js'
import { eventRecorder, tick } from '../helpers/violations.js'

const user = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name'],
  additionalProperties: false,
} as const

describe.each(frameworks)('report mode through %s', (_name, express) => {
  const { events, onViolation } = eventRecorder()
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        mode: 'report',
        schemas: { user },
        routes: {
          'POST /watched': 'user',
          'POST /enforced': { schema: 'user', mode: 'enforce' },
          'POST /required': { schema: 'user', required: true },
          'POST /notes': 'user',
          'POST /tight': { schema: {}, maxDepth: 3, limit: 64 },
          'POST /yaml': { schema: true, formats: ['yaml'] },
        },
        onViolation,
      }),
    )
    app.post('/watched', echo)
    app.post('/enforced', echo)
    app.post('/required', echo)
    // A parser after safebody: report mode leaves a type no format decodes to it.
    app.post('/notes', express.text({ type: 'text/csv' }), echo)
    app.post('/tight', echo)
    app.post('/yaml', echo)
    app.post('/unbound', echo)
    app.post('/upload', express.text({ type: 'text/csv' }), echo)
  })

  const post = (path: string, body: string | Buffer, type = 'application/json') =>
    sendBytes(request(app).post(path).set('Content-Type', type), body)

  function reset() {
    seen.bodies.length = 0
    seen.errors.length = 0
    events.length = 0
  }

  it('lets a body that fails the schema through, decoded, and reports the 422', async () => {
    reset()
    const res = await post('/watched', '{"name":7,"extra":true}')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: { name: 7, extra: true } })
    await tick()
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      mode: 'report',
      action: 'reported',
      type: 'entity.validation.failed',
      status: 422,
      method: 'POST',
      path: '/watched',
      route: 'POST /watched',
      contentType: 'application/json',
      format: 'json',
      bytes: 23,
      schema: 'user',
    })
    expect(events[0]?.errors.length).toBeGreaterThan(0)
    expect(events[0]?.errors[0]).toHaveProperty('keyword')
  })

  it('refuses on a route bound in enforce mode inside a report-mode instance', async () => {
    reset()
    expectRefusal(await post('/enforced', '{"name":7}'), 422, 'entity.validation.failed', seen)
    await tick()
    expect(events).toMatchObject([
      { mode: 'enforce', action: 'refused', type: 'entity.validation.failed', status: 422 },
    ])
  })

  it('decodes a body on an unbound route with the global limits, and reports the 415', async () => {
    reset()
    const res = await post('/unbound', '{"anything":[1,2]}')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: { anything: [1, 2] } })
    await tick()
    expect(events).toMatchObject([
      {
        action: 'reported',
        type: 'route.schema.missing',
        status: 415,
        route: null,
        schema: null,
        path: '/unbound',
      },
    ])
  })

  it('still refuses a malformed or polluting body on an unbound route', async () => {
    reset()
    expectRefusal(await post('/unbound', '{"a":'), 400, 'entity.parse.failed', seen)
    expectRefusal(
      await post('/unbound', '{"__proto__":{"polluted":true}}'),
      400,
      'entity.forbidden.key',
      seen,
    )
    await tick()
    expect(events.map((e) => [e.action, e.type])).toEqual([
      ['reported', 'route.schema.missing'],
      ['refused', 'entity.parse.failed'],
      ['reported', 'route.schema.missing'],
      ['refused', 'entity.forbidden.key'],
    ])
  })

  it('leaves a type no format decodes unread, for the parser after it', async () => {
    reset()
    const notes = await post('/notes', 'plain,words', 'text/csv')
    expect(notes.status).toBe(200)
    expect(notes.body).toEqual({ body: 'plain,words' })
    const csv = await post('/upload', 'a,b\n1,2\n', 'text/csv')
    expect(csv.body).toEqual({ body: 'a,b\n1,2\n' })
    await tick()
    expect(events).toMatchObject([
      { action: 'reported', type: 'content.type.unsupported', route: 'POST /notes', format: null },
      { action: 'reported', type: 'route.schema.missing', route: null, format: null },
    ])
  })

  it('reports two Content-Type lines and hands on the body as Node reads it (the first line)', async () => {
    const { server, port } = await listen(app)
    const send = (path: string) =>
      untilClosed(
        port,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Content-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{"name":"a"}`,
      )
    try {
      reset()
      const watched = await send('/watched')
      expect(watched).toMatch(/^HTTP\/1\.1 200 /)
      expect(watched).toContain('{"body":{"name":"a"}}')
      const enforced = await send('/enforced')
      expect(enforced).toMatch(/^HTTP\/1\.1 415 /)
      expect(enforced).toContain('"type":"content.type.unsupported"')
      await tick()
      expect(events).toMatchObject([
        {
          action: 'reported',
          type: 'content.type.unsupported',
          route: 'POST /watched',
        },
        { action: 'refused', type: 'content.type.unsupported', route: 'POST /enforced' },
      ])
      expect(seen.bodies).toEqual([{ name: 'a' }])
      expectPrototypesUntouched()
    } finally {
      server.close()
    }
  })

  it('lets a missing required body through and reports the 400', async () => {
    reset()
    const res = await request(app).post('/required')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: '<undefined>' })
    await tick()
    expect(events).toMatchObject([{ action: 'reported', type: 'entity.missing', status: 400 }])
  })

  it.each([
    ['malformed JSON', '/watched', '{"name":', 'application/json', 400, 'entity.parse.failed'],
    [
      'invalid UTF-8',
      '/watched',
      Buffer.from([0x22, 0xff, 0x22]),
      'application/json',
      400,
      'entity.utf8.invalid',
    ],
    [
      'a __proto__ key',
      '/watched',
      '{"__proto__":{"x":1}}',
      'application/json',
      400,
      'entity.forbidden.key',
    ],
    [
      'constructor.prototype',
      '/watched',
      '{"constructor":{"prototype":{"x":1}}}',
      'application/json',
      400,
      'entity.forbidden.key',
    ],
    ['too deep', '/tight', '[[[[1]]]]', 'application/json', 400, 'entity.too.deep'],
    ['too large', '/tight', `"${'x'.repeat(100)}"`, 'application/json', 413, 'entity.too.large'],
    [
      'a foreign charset',
      '/watched',
      '{"name":"a"}',
      'application/json; charset=latin1',
      415,
      'charset.unsupported',
    ],
    // Where report mode lets a type the route's list refuses by, the charset still stands.
    [
      'a foreign charset on a type the route does not list',
      '/yaml',
      '{"name":"a"}',
      'application/json; charset=latin1',
      415,
      'charset.unsupported',
    ],
    [
      'a foreign charset on an unbound route',
      '/unbound',
      '{"name":"a"}',
      'application/json; charset=latin1',
      415,
      'charset.unsupported',
    ],
    [
      'UTF-16 text on an unbound route',
      '/unbound',
      'a',
      'text/plain; charset=utf-16',
      415,
      'charset.unsupported',
    ],
  ] as const)(
    'refuses %s in report mode too',
    async (_what, path, body, type, status, errorType) => {
      reset()
      expectRefusal(await post(path, body as string, type), status, errorType, seen)
      await tick()
      expect(events).toMatchObject([{ mode: 'report', action: 'refused', type: errorType, status }])
    },
  )

  it('refuses an unsupported Content-Encoding in report mode too', async () => {
    reset()
    const res = await request(app)
      .post('/watched')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'compress')
      .send('{"name":"a"}')
    expectRefusal(res, 415, 'encoding.unsupported', seen)
    await tick()
    expect(events).toMatchObject([{ action: 'refused', type: 'encoding.unsupported' }])
  })

  it('reports on an inflated body like any other', async () => {
    reset()
    const res = await sendBytes(
      request(app)
        .post('/watched')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip'),
      gzipSync('{"name":false}'),
    )
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: { name: false } })
    await tick()
    expect(events).toMatchObject([{ type: 'entity.validation.failed', bytes: 14 }])
    expectPrototypesUntouched()
  })
})

describe.each(frameworks)('mode per route binding through %s', (_name, express) => {
  const { events, onViolation } = eventRecorder()
  const { app, seen } = buildApp(express, (app, echo) => {
    const body = safeBody({ schemas: { user }, onViolation })
    app.post('/watched', body.route({ schema: 'user', mode: 'report' }), echo)
    app.post('/enforced', body.route('user'), echo)
  })

  it('watches one route while it enforces another', async () => {
    seen.bodies.length = 0
    events.length = 0
    const watched = await request(app).post('/watched').send({ name: 1 })
    expect(watched.status).toBe(200)
    expect(watched.body).toEqual({ body: { name: 1 } })
    const enforced = await request(app).post('/enforced').send({ name: 1 })
    expectRefusal(enforced, 422, 'entity.validation.failed')
    await tick()
    expect(events).toMatchObject([
      { mode: 'report', action: 'reported', route: 'POST /watched', schema: 'user' },
      { mode: 'enforce', action: 'refused', route: 'POST /enforced', schema: 'user' },
    ])
  })
})
