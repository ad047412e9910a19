import Router from '@koa/router'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { hc } from 'hono/client'
import { z } from 'zod'
import { describe, expectTypeOf, test } from 'vitest'
import { problemDetails as fastifyProblems } from '../../src/fastify.js'
import { safeBody as honoBody, validBody } from '../../src/hono.js'
import Koa from 'koa'
import { type BodiesOf, safeBody as koaBody, validBody as koaValidBody } from '../../src/koa.js'

const user = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name'],
  additionalProperties: false,
} as const

const order = z.object({ sku: z.string(), quantity: z.coerce.number().default(1) })

describe('safebody/koa validBody() after a global instance', () => {
  test('is unknown, or the type asked for', () => {
    const app = new Koa()
    app.use(koaBody({ 'POST /users': user }))
    app.use((ctx) => {
      expectTypeOf(koaValidBody(ctx)).toEqualTypeOf<unknown>()
      expectTypeOf(koaValidBody<{ name: string }>(ctx)).toEqualTypeOf<
        { name: string } | undefined
      >()
    })
  })
})

describe('safebody/koa route() types ctx.request.body', () => {
  test('from a const JSON Schema, through @koa/router', () => {
    const router = new Router()
    router.post('/users/:id', koaBody().route(user), (ctx) => {
      expectTypeOf(ctx.request.body).toEqualTypeOf<{ name: string; age?: number }>()
      // @ts-expect-error additionalProperties: false leaves no other key
      ctx.request.body.nope
      // path parameters are still there
      expectTypeOf(ctx.params).toHaveProperty('id')
    })
  })

  test('from a Standard Schema output and from a schema id', () => {
    const router = new Router()
    router.post('/orders', koaBody().route(order), (ctx) => {
      expectTypeOf(ctx.request.body).toEqualTypeOf<{ sku: string; quantity: number }>()
    })
    const bodies = koaBody<BodiesOf<{ user: typeof user }>>({ schemas: { user } })
    router.post('/u', bodies.route('user'), (ctx) => {
      expectTypeOf(ctx.request.body.name).toEqualTypeOf<string>()
    })
    router.post('/opt', bodies.route({ schema: 'user', required: false }), (ctx) => {
      expectTypeOf(ctx.request.body).toEqualTypeOf<{ name: string; age?: number } | undefined>()
    })
  })
})

describe("safebody/hono types c.req.valid('json')", () => {
  test('from a const JSON Schema and a Standard Schema', () => {
    const bodies = honoBody()
    new Hono()
      .post('/users/:id', bodies.route(user), (c) => {
        expectTypeOf(c.req.valid('json')).toEqualTypeOf<{ name: string; age?: number }>()
        expectTypeOf(c.req.param('id')).toEqualTypeOf<string>()
        return c.json(null)
      })
      .put('/orders', bodies.route(order), (c) => {
        expectTypeOf(c.req.valid('json')).toEqualTypeOf<{ sku: string; quantity: number }>()
        // @ts-expect-error only json was validated
        c.req.valid('form')
        return c.json(null)
      })
  })

  test('from a schema id', () => {
    const bodies = honoBody<BodiesOf<{ user: typeof user }>>({ schemas: { user } })
    new Hono().post('/u', bodies.route('user'), (c) => {
      expectTypeOf(c.req.valid('json').name).toEqualTypeOf<string>()
      return c.json(null)
    })
  })

  test("types hc's json from the schema's input, the handler's from its output", () => {
    const signup = z.object({ name: z.string(), age: z.number().default(18) })
    const stamp = z.object({ at: z.string().transform((at) => Date.parse(at)) })
    const defaulted = {
      type: 'object',
      properties: { name: { type: 'string' }, role: { type: 'string', default: 'member' } },
      required: ['name'],
      additionalProperties: false,
    } as const
    const bodies = honoBody()
    const app = new Hono()
      .post('/users', bodies.route(signup), (c) => {
        expectTypeOf(c.req.valid('json')).toEqualTypeOf<{ name: string; age: number }>()
        return c.json(null)
      })
      .post('/stamps', bodies.route({ schema: stamp, required: false }), (c) => {
        expectTypeOf(c.req.valid('json')).toEqualTypeOf<{ at: number } | undefined>()
        return c.json(null)
      })
      .post('/plain', bodies.route(user), (c) => c.json(null))
      .post('/defaulted', bodies.route(defaulted), (c) => {
        // ajv fills `role` in only with useDefaults, which the type cannot see.
        expectTypeOf(c.req.valid('json')).toEqualTypeOf<{ name: string; role?: string }>()
        return c.json(null)
      })
    const client = hc<typeof app>('http://localhost')
    // A JSON Schema property with a `default` and not `required` is optional to the client.
    void client.defaulted.$post({ json: { name: 'a' } })
    // @ts-expect-error name has no default
    void client.defaulted.$post({ json: { role: 'admin' } })
    void client.users.$post({ json: { name: 'a' } })
    void client.stamps.$post({ json: { at: '2026-12-07' } })
    void client.plain.$post({ json: { name: 'a', age: 3 } })
    // @ts-expect-error the client sends the input: a string, not the parsed number
    void client.stamps.$post({ json: { at: 5 } })
    // @ts-expect-error name has no default
    void client.users.$post({ json: { age: 3 } })
  })

  test('validBody(c) after a global instance', () => {
    new Hono().use(honoBody()).post('/u', (c) => {
      expectTypeOf(validBody<{ name: string }>(c)).toEqualTypeOf<{ name: string } | undefined>()
      return c.json(null)
    })
  })
})

describe('safebody/fastify problemDetails', () => {
  test('is an error handler on any fastify server, HTTP/2 included', () => {
    Fastify().setErrorHandler(fastifyProblems())
    Fastify({ http2: true }).setErrorHandler(fastifyProblems())
  })
})
