import { gzipSync } from 'node:zlib'
import express5 from 'express'
import express4 from 'express4'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { safeBody } from '../../src/index.js'
import { address, anything, person, user } from '../fixtures/schemas.js'
import {
  buildApp,
  expectPrototypesUntouched,
  expectRefusal,
  frameworks,
  sendBytes,
} from '../helpers/app.js'
import { expectBindings, splitKeys } from '../helpers/routing.js'

describe.each(frameworks)('ways of binding schemas, through %s', (_name, express) => {
  it('takes the short form: route keys straight to schemas', async () => {
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(safeBody({ 'POST /users': person, 'PUT /addresses/:id': address }))
      app.post('/users', echo)
      app.put('/addresses/:id', echo)
      app.post('/other', echo)
    })
    expect((await request(app).post('/users').send({ name: 'a' })).status).toBe(200)
    expect((await request(app).put('/addresses/1').send({ city: 'x' })).status).toBe(200)
    expect((await request(app).put('/addresses/1').send({})).status).toBe(422)
    seen.bodies.length = 0
    expectRefusal(await request(app).post('/other').send({}), 415, 'route.schema.missing', seen)
  })

  it('binds per route, sharing one compiled registry, by id, binding or schema object', async () => {
    const bodies = safeBody({ schemas: { user, address, anything } })
    const { app, seen } = buildApp(express, (app, echo) => {
      app.post('/users', bodies.route('user'), echo)
      app.post('/required', bodies.route({ schema: 'anything', required: true }), echo)
      app.post('/inline', bodies.route({ type: 'array', maxItems: 1 }), echo)
      app.post('/free', echo)
    })
    expect((await request(app).post('/users').send({ name: 'a' })).status).toBe(200)
    seen.bodies.length = 0
    expectRefusal(await request(app).post('/users').send({}), 422, 'entity.validation.failed', seen)
    expectRefusal(await request(app).post('/required'), 400, 'entity.missing', seen)
    expect((await request(app).post('/inline').send([1])).status).toBe(200)
    seen.bodies.length = 0
    expectRefusal(
      await request(app).post('/inline').send([1, 2]),
      422,
      'entity.validation.failed',
      seen,
    )
    // A route without a binding reads nothing: the body is not safebody's to judge there.
    expect((await request(app).post('/free').send({ x: 1 })).body).toEqual({ body: '<undefined>' })
  })

  it('reads a body once when a global and a per-route instance both apply', async () => {
    const bodies = safeBody({ schemas: { person }, routes: { 'POST /users': 'person' } })
    const { app } = buildApp(express, (app, echo) => {
      app.use(bodies)
      app.post('/users', bodies.route('person'), echo)
    })
    expect((await request(app).post('/users').send({ name: 'a' })).body).toEqual({
      body: { name: 'a' },
    })
  })

  it('holds a body a global instance took to a per-route binding too: validators stack', async () => {
    const shout = z.object({ name: z.string().min(3).toUpperCase() })
    const events: string[] = []
    const onViolation = (event: { action: string; type: string }) => {
      events.push(`${event.action} ${event.type}`)
    }
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(
        safeBody({
          routes: {
            'POST /users': { schema: person, formats: ['json', 'yaml'] },
            'POST /soft': person,
          },
        }),
      )
      app.post('/users', safeBody().route({ schema: shout, formats: ['json'] }), echo)
      app.post('/soft', safeBody({ onViolation }).route({ schema: shout, mode: 'report' }), echo)
    })
    // The per-route schema's output is what the handler gets.
    expect((await request(app).post('/users').send({ name: 'ada' })).body).toEqual({
      body: { name: 'ADA' },
    })
    seen.bodies.length = 0
    // The global binding passes it; the per-route one does not (it used to be skipped).
    expectRefusal(
      await request(app).post('/users').send({ name: 'al' }),
      422,
      'entity.validation.failed',
      seen,
    )
    expectRefusal(await request(app).post('/users').send({}), 422, 'entity.validation.failed', seen)
    // The per-route binding's content types hold too: the global one took YAML, it does not.
    expectRefusal(
      await request(app).post('/users').set('content-type', 'application/yaml').send('name: ada\n'),
      415,
      'content.type.unsupported',
      seen,
    )
    // Report mode on the per-route binding reports and hands on what the global one took.
    expect((await request(app).post('/soft').send({ name: 'al' })).body).toEqual({
      body: { name: 'al' },
    })
    expect(events).toEqual(['reported entity.validation.failed'])
  })

  it("holds a body a global instance took to a per-route binding's own read and decoding rules", async () => {
    const events: string[] = []
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(safeBody({ routes: { 'POST /strict': anything, 'POST /loose': anything } }))
      const strict = safeBody({
        onViolation: (event) => {
          events.push(`${event.action} ${event.type}`)
        },
      })
      const rules = { limit: 64, inflate: false, maxDepth: 2, duplicateKeys: 'refuse' } as const
      app.post('/strict', strict.route({ schema: anything, ...rules }), echo)
      // Report mode relaxes only what report mode relaxes: a limit still refuses.
      app.post('/loose', strict.route({ schema: anything, ...rules, mode: 'report' }), echo)
    })
    const json = (path: string, body: string) =>
      sendBytes(request(app).post(path).set('content-type', 'application/json'), body)
    for (const path of ['/strict', '/loose']) {
      expect((await json(path, '{"a":1}')).body).toEqual({ body: { a: 1 } })
      seen.bodies.length = 0
      expectRefusal(await json(path, `{"a":"${'x'.repeat(80)}"}`), 413, 'entity.too.large', seen)
      expectRefusal(await json(path, '{"a":{"b":{"c":1}}}'), 400, 'entity.too.deep', seen)
      expectRefusal(await json(path, '{"a":1,"a":2}'), 400, 'entity.key.duplicate', seen)
      const gzipped = await sendBytes(
        request(app)
          .post(path)
          .set('content-type', 'application/json')
          .set('content-encoding', 'gzip'),
        gzipSync('{"a":1}'),
      )
      expectRefusal(gzipped, 415, 'encoding.unsupported', seen)
    }
    // Nothing the per-route binding allows is refused: the same body within its rules passes.
    expect((await json('/strict', '{"a":[1]}')).body).toEqual({ body: { a: [1] } })
    // Each refusal was counted where it was decided: none of them is relaxed by report mode.
    expect(events.filter((e) => e.startsWith('reported'))).toEqual([])
  })

  it('decodes again the bytes a body came in, when requests in between reused the buffer', async () => {
    // A body that arrives in chunks is joined, for the global instance's decoder, in a buffer
    // the next such body reuses; the per-route binding behind decodes the body's own bytes.
    let arrived = () => {}
    const atGate = new Promise<void>((resolve) => (arrived = resolve))
    let open = () => {}
    const gate = new Promise<void>((resolve) => (open = resolve))
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(
        safeBody({ routes: { 'POST /strict': anything, 'POST /other': anything }, limit: '1mb' }),
      )
      app.post(
        '/strict',
        (_req, _res, next) => {
          arrived()
          void gate.then(() => next())
        },
        safeBody().route({ schema: anything, limit: '1mb', maxDepth: 2 }),
        echo,
      )
      app.post('/other', echo)
    })
    const json = (path: string, body: string) =>
      sendBytes(request(app).post(path).set('content-type', 'application/json'), body)
    const deep = JSON.stringify({ a: { b: { c: 1 } }, pad: 'd'.repeat(300_000) })
    const flat = JSON.stringify({ pad: 'f'.repeat(200_000) })
    const strict = Promise.resolve(json('/strict', deep))
    await atGate
    const other = await json('/other', flat)
    expect(other.status).toBe(200)
    expect(other.body.body.pad).toHaveLength(200_000)
    seen.bodies.length = 0
    open()
    expectRefusal(await strict, 400, 'entity.too.deep', seen)
  })

  it('refuses past a per-route limit once inflated, and integers it refuses the global passed', async () => {
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(safeBody({ routes: { 'POST /n': anything }, largeIntegers: 'string' }))
      app.post(
        '/n',
        safeBody().route({ schema: anything, limit: 64, largeIntegers: 'refuse' }),
        echo,
      )
    })
    // 40 bytes on the wire, 200 once inflated: the per-route limit holds after inflation too.
    const inflating = await sendBytes(
      request(app)
        .post('/n')
        .set('content-type', 'application/json')
        .set('content-encoding', 'gzip'),
      gzipSync(JSON.stringify({ a: 'x'.repeat(190) })),
    )
    expectRefusal(inflating, 413, 'entity.too.large', seen)
    expect(inflating.body.detail).toContain('inflates past the 64B limit')
    // The global instance hands the integer on as a string; this binding refuses it.
    const big = await sendBytes(
      request(app).post('/n').set('content-type', 'application/json'),
      '{"a":9007199254740993}',
    )
    expectRefusal(big, 400, 'entity.type.unmapped', seen)
    // It names the setting that decided, never the number.
    expect(big.body.detail).toContain("`largeIntegers` is 'refuse'")
    expect(big.body.detail).not.toContain('9007199254740993')
    expect((await request(app).post('/n').send({ a: 1 })).body).toEqual({ body: { a: 1 } })
  })

  it('adds no default of its own to a body a global instance took: only what a binding sets', async () => {
    const { app } = buildApp(express, (app, echo) => {
      app.use(
        safeBody({
          routes: { 'POST /typed': { schema: anything, formats: ['json', 'yaml'] } },
          limit: '1mb',
        }),
      )
      // Written to type req.body: the defaults it would have alone (100kb, json, msgpack
      // and yaml, depth 64) are not rules it sets.
      app.post('/typed', safeBody({ formats: ['json'] }).route(anything), echo)
    })
    const big = { items: Array.from({ length: 20_000 }, (_, i) => i) }
    expect((await request(app).post('/typed').send(big)).status).toBe(200)
    // Its instance's `formats` is a rule it sets: YAML, which the global one took, is refused.
    const yaml = await request(app)
      .post('/typed')
      .set('content-type', 'application/yaml')
      .send('a: 1\n')
    expectRefusal(yaml, 415, 'content.type.unsupported')
  })

  it('holds a body to the rules a report-mode binding sets, whatever it relaxes', async () => {
    const events: string[] = []
    const onViolation = (event: { action: string; type: string }) => {
      events.push(`${event.action} ${event.type}`)
    }
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(safeBody({ routes: { 'POST /soft': anything, 'POST /unbound': anything } }))
      // A second global in report mode that binds neither route, and a per-route binding in
      // report mode whose own formats refuse YAML: each reports what report mode relaxes,
      // and still holds the body to its limit.
      app.use(safeBody({ mode: 'report', limit: 64, maxDepth: 2, onViolation, routes: {} }))
      app.post('/unbound', echo)
      const soft = safeBody({ onViolation }).route({
        schema: anything,
        formats: ['json'],
        limit: 64,
        mode: 'report',
      })
      app.post('/soft', soft, echo)
    })
    const big = `a: "${'x'.repeat(80)}"\n`
    const yaml = (path: string, body: string) =>
      sendBytes(request(app).post(path).set('content-type', 'application/yaml'), body)
    expectRefusal(await yaml('/unbound', big), 413, 'entity.too.large', seen)
    expectRefusal(await yaml('/unbound', 'a: {b: {c: 1}}\n'), 400, 'entity.too.deep', seen)
    expectRefusal(await yaml('/soft', big), 413, 'entity.too.large', seen)
    expect((await yaml('/soft', 'a: 1\n')).body).toEqual({ body: { a: 1 } })
    expect(events).toContain('reported route.schema.missing')
    expect(events).toContain('reported content.type.unsupported')
  })

  it('refuses a content type a report-mode global let by where a per-route binding would', async () => {
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(safeBody({ mode: 'report', routes: {} }))
      app.post('/notes', safeBody().route(anything), echo)
    })
    const text = await request(app).post('/notes').set('content-type', 'text/plain').send('hi')
    expectRefusal(text, 415, 'content.type.unsupported', seen)
    expect((await request(app).post('/notes').send({ a: 1 })).body).toEqual({ body: { a: 1 } })
  })

  it('refuses, as a global instance does, a body another one took on a route it does not bind', async () => {
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(safeBody({ routes: { 'POST /users': person, 'POST /notes': anything } }))
      app.use(safeBody({ routes: { 'POST /users': person } }))
      app.post('/users', echo)
      app.post('/notes', echo)
    })
    expect((await request(app).post('/users').send({ name: 'a' })).body).toEqual({
      body: { name: 'a' },
    })
    seen.bodies.length = 0
    expectRefusal(
      await request(app).post('/notes').send({ x: 1 }),
      415,
      'route.schema.missing',
      seen,
    )
  })

  it('works mounted under a path, matching routes relative to the mount point', async () => {
    const { app } = buildApp(express, (app, echo) => {
      app.use('/api', safeBody({ 'POST /users': person }))
      app.post('/api/users', echo)
    })
    expect((await request(app).post('/api/users').send({ name: 'a' })).status).toBe(200)
    expect((await request(app).post('/api/users').send({})).status).toBe(422)
  })

  it.each([
    ['the defaults', false, undefined],
    ["'case sensitive routing' and 'strict routing'", true, { caseSensitive: true, strict: true }],
  ])('compares paths as the app routes them, with %s', async (_name, exact, routing) => {
    const ran: string[] = []
    const { app } = buildApp(express, (app) => {
      app.set('case sensitive routing', exact)
      app.set('strict routing', exact)
      app.use(
        safeBody({
          routes: splitKeys,
          ...(routing === undefined ? {} : { routing }),
        }),
      )
      const handle = (name: string) => (_req: unknown, res: { json(v: unknown): void }) => {
        ran.push(name)
        res.json({ ok: true })
      }
      app.post('/users/me', handle('me'))
      app.post('/users/:id', handle('id'))
      app.post('/admin', handle('admin'))
      // Unbound: a body that reaches it is refused.
      app.post('/:page', handle('page'))
    })
    await expectBindings(
      exact
        ? [
            ['/users/ME', 'id', 200, 'id'],
            ['/users/ME', 'me', 422, ''],
            ['/ADMIN', 'admin', 415, ''],
            ['/admin/', 'admin', 415, ''],
          ]
        : [
            ['/users/ME', 'me', 200, 'me'],
            ['/ADMIN', 'admin', 200, 'admin'],
            ['/admin/', 'admin', 200, 'admin'],
          ],
      ran,
      async (path, body) => {
        const res = await request(app).post(path).type('json').send(body)
        return { status: res.status, type: async () => res.body.type }
      },
    )
  })

  it('refuses to run after another body parser has consumed the stream (500, not exposed)', async () => {
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(express5.json())
      app.use(safeBody({ 'POST /users': person }))
      app.post('/users', echo)
    })
    const res = await request(app).post('/users').send({ name: 'a' })
    expect(res.status).toBe(500)
    expect(seen.bodies).toEqual([])
    expect(seen.errors).toMatchObject([
      { message: 'safebody must run before any other body parser' },
    ])
  })
})

// What a body parser left behind safebody does with the body safebody handed on: body-parser 1
// (Express 4's express.json(), and anyone's pinned body-parser@1, on Express 4 or 5) skips a
// request flagged `req._body`; body-parser 2 (Express 5's) skips one whose stream has ended.
// safebody sets the flag in every case, so switching report mode to enforce mode in front of
// an application's own parser changes nothing for the parser.
describe('a body parser behind safebody', () => {
  const bodyParser1 = express4.json
  const cases = [
    ['Express 4 with its own body-parser 1', express4, bodyParser1, 'enforce'],
    ['Express 4 with body-parser 1, report mode', express4, bodyParser1, 'report'],
    ['Express 5 with its own body-parser 2', express5, express5.json, 'enforce'],
    ['Express 5 with body-parser 2, report mode', express5, express5.json, 'report'],
    ['Express 5 with a pinned body-parser 1', express5, bodyParser1, 'enforce'],
    ['Express 5 with a pinned body-parser 1, report mode', express5, bodyParser1, 'report'],
  ] as const
  it.each(cases)(
    '%s: gets the checked body, not a second read',
    async (_n, express, parser, mode) => {
      const flags: unknown[] = []
      const { app, seen } = buildApp(express, (app, echo) => {
        app.use(safeBody({ mode, schemas: { person }, routes: { 'POST /users': 'person' } }))
        app.use(parser())
        app.use((req, _res, next) => {
          flags.push(Boolean((req as { _body?: unknown })._body))
          next()
        })
        app.post('/users', echo)
      })
      const res = await request(app).post('/users').send({ name: 'a' })
      expect(res.status).toBe(200)
      expect(seen.bodies).toEqual([{ name: 'a' }])
      expect(flags).toEqual([true])
      // And the checks still hold: refused in enforce mode, reported and handed on in report mode.
      seen.bodies.length = 0
      const invalid = await request(app).post('/users').send({ name: 1 })
      if (mode === 'enforce') expectRefusal(invalid, 422, 'entity.validation.failed', seen)
      else expect([invalid.status, seen.bodies]).toEqual([200, [{ name: 1 }]])
      expectPrototypesUntouched()
    },
  )

  it('refuses loudly after a middleware that flagged `_body` (500, not exposed): the body was not checked', async () => {
    const { app, seen } = buildApp(express5, (app, echo) => {
      app.use((req, _res, next) => {
        ;(req as { _body?: boolean })._body = true
        next()
      })
      app.use(safeBody({ 'POST /users': person }))
      app.post('/users', echo)
    })
    expect((await request(app).post('/users').send({ name: 'a' })).status).toBe(500)
    expect(seen.bodies).toEqual([])
    expect(seen.errors).toMatchObject([
      { message: 'safebody must run before any other body parser' },
    ])
    expectPrototypesUntouched()
  })
})

describe('start-up errors', () => {
  it('names an unknown schema, a bad schema, a bad option and a bad route', () => {
    expect(() => safeBody({ schemas: { person }, routes: { 'POST /a': 'nobody' } })).toThrow(
      /no schema is registered as "nobody" \(bound to route "POST \/a"\)/,
    )
    expect(() => safeBody({ schemas: { bad: { type: 'nope' } } })).toThrow(/schema "bad"/)
    expect(() => safeBody({ 'POST /a': { type: 'object', requird: [] } })).toThrow(/POST \/a/)
    expect(() => safeBody({ limit: 'lots' })).toThrow(/limit must be a byte count/)
    expect(() => safeBody({ maxDepth: 0 })).toThrow(/maxDepth must be a positive integer/)
    expect(() => safeBody({ timeout: -1 })).toThrow(/timeout must be a positive integer/)
    expect(() => safeBody({ limt: '1kb' } as never)).toThrow(/unknown option "limt"/)
    expect(() =>
      safeBody({
        schemas: { person },
        routes: { 'POST /a': { schema: 'person', requird: true } as never },
      }),
    ).toThrow(/unknown option "requird" in route "POST \/a"/)
    expect(() => safeBody({ schemas: { person }, routes: { '/a': 'person' } })).toThrow(
      /must be a method and a path/,
    )
    expect(() =>
      safeBody({
        schemas: { person },
        routes: { 'POST /a': { schema: 'person', formats: ['xml'] } as never },
      }),
    ).toThrow(/unknown format "xml"/)
    const bodies = safeBody({ schemas: { person } })
    expect(() => bodies.route('nobody')).toThrow(/no schema is registered as "nobody"/)
  })

  it('compiles each schema once, when the middleware is created', () => {
    let compiled = 0
    const counting = {
      type: 'object',
      properties: { a: { type: 'string', format: 'counted' } },
    }
    const bodies = safeBody({
      schemas: { counting },
      routes: { 'POST /a': 'counting', 'POST /b': 'counting' },
      ajv: {
        formats: {
          counted: {
            validate: () => {
              compiled++
              return true
            },
          },
        },
      },
    })
    expect(typeof bodies).toBe('function')
    expect(compiled).toBe(0)
  })
})
