// zod 4, valibot and arktype schemas through every binding form, on real Express 5 and 4
// apps: the schema's output reaches the handler, its issues become the 422, and whatever the
// pipeline refuses (pollution, depth, bombs, wrong types) never reaches the schema.
import { gzipSync } from 'node:zlib'
import { encode } from '@msgpack/msgpack'
import { type } from 'arktype'
import type { Express } from 'express'
import request from 'supertest'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { type BodySchema, safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks, sendBytes } from '../helpers/app.js'
import { eventRecorder, tick } from '../helpers/violations.js'
import { type Calls, libraries } from './libraries.js'

const forms = ['routes (inline)', 'routes (binding)', 'short form', 'schemas by id', 'route()']
type Form = (typeof forms)[number]
type ExpressFactory = (typeof frameworks)[number][1]

/** An app that binds `schema` to `POST /users` in the given form. */
function mount(express: ExpressFactory, form: Form, schema: BodySchema) {
  return buildApp(express, (app, echo) => {
    if (form === 'routes (inline)') app.use(safeBody({ routes: { 'POST /users': schema } }))
    if (form === 'routes (binding)') {
      app.use(safeBody({ routes: { 'POST /users': { schema, limit: '10kb' } } }))
    }
    if (form === 'short form') app.use(safeBody({ 'POST /users': schema }))
    if (form === 'schemas by id') {
      app.use(safeBody({ schemas: { user: schema }, routes: { 'POST /users': 'user' } }))
    }
    if (form === 'route()') app.post('/users', safeBody().route(schema), echo)
    else app.post('/users', echo)
  })
}

const ada = { name: '  Ada  ', email: 'ada@example.com' }
const adaOut = { name: 'Ada', email: 'ada@example.com', age: 18 }

describe.each(frameworks)('Standard Schemas through %s', (_name, express) => {
  describe.each(libraries)('$name', (library) => {
    it.each(forms)('%s: hands on the schema output (trimmed, defaulted)', async (form) => {
      const calls: Calls = { n: 0 }
      const { app, seen } = mount(express, form, library.user(calls))
      const res = await request(app).post('/users').send(ada)
      expect(res.status).toBe(200)
      expect(seen.bodies).toEqual([adaOut])
      expect(calls.n).toBe(1)
    })

    it.each(forms)('%s: refuses an invalid body with 422 and its issues', async (form) => {
      const calls: Calls = { n: 0 }
      const { app, seen } = mount(express, form, library.user(calls))
      const res = await request(app).post('/users').send({ name: 'Ada', email: 'nope', age: 3 })
      expectRefusal(res, 422, 'entity.validation.failed', seen)
      expect(res.body.errors).toEqual([
        { instancePath: '/email', keyword: library.emailKeyword, message: expect.any(String) },
      ])
      expect(calls.n).toBe(1)
    })

    it('points at nested and missing values with a JSON Pointer', async () => {
      const { app, seen } = mount(express, 'route()', library.user({ n: 0 }))
      const res = await request(app).post('/users').send({ email: 'ada@example.com', age: 1.5 })
      expectRefusal(res, 422, 'entity.validation.failed', seen)
      const paths = (res.body.errors as Array<{ instancePath: string }>).map((e) => e.instancePath)
      expect(paths.sort()).toEqual(['/age', '/name'])
    })

    it('never echoes the refused string in a message', async () => {
      const { app } = mount(express, 'routes (inline)', library.user({ n: 0 }))
      const email = `<script>alert(1)</script>${'x'.repeat(300)}`
      const res = await request(app).post('/users').send({ name: 'Ada', email })
      expect(res.status).toBe(422)
      expect(res.text).not.toContain('<script>')
      expect(res.text).not.toContain('xxxxxxxxxx')
      expect(res.body.errors[0].message.length).toBeLessThanOrEqual(200)
    })

    it('decodes MessagePack to the same value the schema checks', async () => {
      const { app, seen } = mount(express, 'routes (inline)', library.user({ n: 0 }))
      const res = await sendBytes(
        request(app).post('/users').type('application/msgpack'),
        Buffer.from(encode(ada)),
      )
      expect(res.status).toBe(200)
      expect(seen.bodies).toEqual([adaOut])
    })

    describe('a hostile body is refused before the schema runs', () => {
      const calls: Calls = { n: 0 }
      let app: Express
      let seen: ReturnType<typeof buildApp>['seen']
      const post = () => request(app).post('/users')
      it.each([
        [
          '__proto__ key',
          () => sendBytes(post().type('json'), '{"name":"a","__proto__":{"polluted":1}}'),
          400,
          'entity.forbidden.key',
        ],
        [
          'escaped __proto__ key in MessagePack',
          () =>
            sendBytes(
              post().type('application/msgpack'),
              Buffer.from(encode({ a: JSON.parse('{"__proto__":{"x":1}}') as unknown })),
            ),
          400,
          'entity.forbidden.key',
        ],
        [
          'too deep',
          () => sendBytes(post().type('json'), '['.repeat(100) + ']'.repeat(100)),
          400,
          'entity.too.deep',
        ],
        [
          'gzip bomb',
          () =>
            sendBytes(
              post().type('json').set('Content-Encoding', 'gzip'),
              gzipSync(`{"name":"${'a'.repeat(10 * 1024 * 1024)}"}`),
            ),
          413,
          'entity.too.large',
        ],
        [
          'wrong content type',
          () => sendBytes(post().type('text/plain'), JSON.stringify(ada)),
          415,
          'content.type.unsupported',
        ],
        ['malformed', () => sendBytes(post().type('json'), '{"name":'), 400, 'entity.parse.failed'],
      ] as const)('%s', async (_what, send, status, type) => {
        ;({ app, seen } = mount(express, 'route()', library.user(calls)))
        expectRefusal(await send(), status, type, seen)
        expect(calls.n).toBe(0)
      })
    })

    it('report mode reports the issues and hands on the decoded value', async () => {
      const { events, onViolation } = eventRecorder()
      const { app, seen } = buildApp(express, (app, echo) => {
        app.use(
          safeBody({
            mode: 'report',
            onViolation,
            routes: { 'POST /users': library.user({ n: 0 }) },
          }),
        )
        app.post('/users', echo)
      })
      const bad = { name: '  Ada  ', email: 'ada.lovelace@nowhere' }
      expect((await request(app).post('/users').send(bad)).status).toBe(200)
      expect((await request(app).post('/users').send(ada)).status).toBe(200)
      // The refused body as decoded (not trimmed), then the valid one as the schema output.
      expect(seen.bodies).toEqual([bad, adaOut])
      await tick()
      expect(events).toHaveLength(1)
      expect(events[0]).toMatchObject({ type: 'entity.validation.failed', action: 'reported' })
      expect(events[0]?.errors).toEqual([
        { instancePath: '/email', keyword: library.emailKeyword, message: expect.any(String) },
      ])
      expect(JSON.stringify(events)).not.toContain('ada.lovelace@nowhere')
    })

    const { asyncUser, hangingUser } = library
    it.runIf(asyncUser !== null)('awaits an async check', async () => {
      const calls: Calls = { n: 0 }
      const { app, seen } = mount(
        express,
        'route()',
        (asyncUser as NonNullable<typeof asyncUser>)(calls),
      )
      const taken = await request(app)
        .post('/users')
        .send({ ...ada, name: 'taken' })
      expectRefusal(taken, 422, 'entity.validation.failed')
      expect(taken.body.errors[0].message).toBe('name is taken')
      expect((await request(app).post('/users').send(ada)).status).toBe(200)
      expect(seen.bodies).toEqual([adaOut])
      // zod's ~standard tries a synchronous parse first, then runs the schema again async.
      expect(calls.n).toBeGreaterThanOrEqual(2)
    })

    it.runIf(hangingUser !== null)(
      'refuses with 408 when an async check outlasts the timeout',
      async () => {
        const schema = (hangingUser as NonNullable<typeof hangingUser>)({ n: 0 })
        const { app, seen } = buildApp(express, (app, echo) => {
          app.post('/users', safeBody({ timeout: 200 }).route(schema), echo)
        })
        const started = Date.now()
        const res = await request(app).post('/users').send(ada)
        const elapsed = Date.now() - started
        expectRefusal(res, 408, 'request.timeout', seen)
        expect(res.body.detail).toMatch(/not read and validated within 200 ms/)
        expect(elapsed).toBeGreaterThanOrEqual(190)
        expect(elapsed).toBeLessThan(2000)
      },
    )
  })
})

// What a hostile body can make a 422 say: valibot and arktype quote the value they refused,
// zod, valibot and arktype name a key the schema does not know, and ajv's instancePath does
// too. The value is cut; a key is a name and stays, shortened past 64 characters.
describe.each(frameworks)('what a 422 echoes of the body, through %s', (_name, express) => {
  const longKey = `SECRET_${'k'.repeat(90_000)}`
  const secretNumber = 987654321123
  const secretText = 'hunter2-hunter2-hunter2'
  const schemas: Record<string, BodySchema> = {
    'zod strict': z.strictObject({ age: z.number().max(5), name: z.number() }),
    'valibot strict': v.strictObject({ age: v.pipe(v.number(), v.maxValue(5)), name: v.number() }),
    'arktype strict': type({ '+': 'reject', age: 'number < 5', name: 'number' }),
    'ajv additionalProperties': {
      type: 'object',
      properties: { age: { type: 'number', maximum: 5 }, name: { type: 'number' } },
      additionalProperties: { type: 'string' },
    },
  }
  it.each(Object.keys(schemas))('%s', async (which) => {
    const { app, seen } = buildApp(express, (app, echo) => {
      app.post('/x', safeBody({ limit: '1mb' }).route(schemas[which] as BodySchema), echo)
    })
    const res = await request(app)
      .post('/x')
      .send({ age: secretNumber, name: secretText, [longKey]: 1 })
    expectRefusal(res, 422, 'entity.validation.failed', seen)
    const text = JSON.stringify(res.body)
    expect(text).not.toContain(String(secretNumber))
    expect(text).not.toContain(secretText)
    expect(text).not.toContain('k'.repeat(64))
    expect(text.length).toBeLessThan(2000)
  })
})
