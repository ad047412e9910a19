import express5 from 'express'
import express4 from 'express4'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { safeBody } from '../../src/index.js'
import { address, anything, person, user } from '../fixtures/schemas.js'
import { buildApp, expectPrototypesUntouched, expectRefusal, frameworks } from '../helpers/app.js'

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
    // The reading was the global binding's: its content types, limits and guard.
    const yaml = await request(app)
      .post('/users')
      .set('content-type', 'application/yaml')
      .send('name: ada\n')
    expect(yaml.body).toEqual({ body: { name: 'ADA' } })
    const yamlShort = await request(app)
      .post('/users')
      .set('content-type', 'application/yaml')
      .send('name: al\n')
    expect(yamlShort.status).toBe(422)
    // Report mode on the per-route binding reports and hands on what the global one took.
    expect((await request(app).post('/soft').send({ name: 'al' })).body).toEqual({
      body: { name: 'al' },
    })
    expect(events).toEqual(['reported entity.validation.failed'])
  })

  it('works mounted under a path, matching routes relative to the mount point', async () => {
    const { app } = buildApp(express, (app, echo) => {
      app.use('/api', safeBody({ 'POST /users': person }))
      app.post('/api/users', echo)
    })
    expect((await request(app).post('/api/users').send({ name: 'a' })).status).toBe(200)
    expect((await request(app).post('/api/users').send({})).status).toBe(422)
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
