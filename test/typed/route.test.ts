import { Type } from '@sinclair/typebox'
import request from 'supertest'
import { describe, expect, test } from 'vitest'
import { safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks } from '../helpers/app.js'

const user = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name'],
  additionalProperties: false,
} as const

const order = Type.Object(
  { sku: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
)

describe.each(frameworks)('route() with a typed schema (%s)', (_name, express) => {
  const mount = () =>
    buildApp(express, (app, echo) => {
      const bodies = safeBody({ schemas: { order } })
      app.post(
        '/users',
        bodies.route(user),
        (req, res, next) => {
          // The typed body, used without a cast.
          res.setHeader('X-Name', req.body.name.toUpperCase())
          next()
        },
        echo,
      )
      app.post('/orders', bodies.route(order), echo)
      app.post('/orders-by-id', bodies.route('order'), echo)
      app.post('/maybe', bodies.route({ schema: user, required: false }), echo)
    })

  test('a const JSON Schema validates and types the body', async () => {
    const { app, seen } = mount()
    const res = await request(app).post('/users').send({ name: 'ada', age: 36 })
    expect(res.status).toBe(200)
    expect(res.headers['x-name']).toBe('ADA')
    expect(seen.bodies).toEqual([{ name: 'ada', age: 36 }])
  })

  test('a key the schema does not have is refused', async () => {
    const { app, seen } = mount()
    const res = await request(app).post('/users').send({ name: 'ada', nope: 1 })
    expectRefusal(res, 422, 'entity.validation.failed', seen)
  })

  test('a TypeBox schema compiles under strict ajv and is enforced, inline and by id', async () => {
    const { app, seen } = mount()
    for (const path of ['/orders', '/orders-by-id']) {
      expect((await request(app).post(path).send({ sku: 'a', quantity: 1 })).status).toBe(200)
      const res = await request(app).post(path).send({ sku: 'a', quantity: 0 })
      expectRefusal(res, 422, 'entity.validation.failed')
    }
    expect(seen.bodies).toEqual([
      { sku: 'a', quantity: 1 },
      { sku: 'a', quantity: 1 },
    ])
  })

  test('route() requires a body: the handler was promised one', async () => {
    const { app, seen } = mount()
    const res = await request(app).post('/users')
    expectRefusal(res, 400, 'entity.missing', seen)
  })

  test('required: false lets a request without a body through, as its type says', async () => {
    const { app, seen } = mount()
    expect((await request(app).post('/maybe')).status).toBe(200)
    expect(seen.bodies).toEqual([undefined])
  })
})
