import { type Static, Type } from '@sinclair/typebox'
import express from 'express'
import { describe, expectTypeOf, test } from 'vitest'
import { type BodiesOf, type BodyOf, type RouteBinding, safeBody } from '../../src/index.js'

const user = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name'],
  additionalProperties: false,
} as const

const order = Type.Object({ sku: Type.String(), quantity: Type.Integer({ minimum: 1 }) })

describe('route(schema) types req.body', () => {
  test('from a const JSON Schema, through app.post', () => {
    const app = express()
    const bodies = safeBody()
    app.post('/users/:id', bodies.route(user), (req, res) => {
      expectTypeOf(req.body).toEqualTypeOf<{ name: string; age?: number }>()
      expectTypeOf(req.body.name.toUpperCase()).toEqualTypeOf<string>()
      expectTypeOf(req.body.age).toEqualTypeOf<number | undefined>()
      // @ts-expect-error additionalProperties: false leaves no other key
      req.body.nope
      // path parameters are still inferred from the path
      expectTypeOf(req.params.id).toEqualTypeOf<string>()
      res.end()
    })
  })

  test('from a TypeBox schema', () => {
    const app = express()
    app.put('/orders', safeBody().route(order), (req, res) => {
      expectTypeOf(req.body).toEqualTypeOf<Static<typeof order>>()
      expectTypeOf(req.body.quantity).toEqualTypeOf<number>()
      // @ts-expect-error not in the TypeBox schema
      req.body.price
      res.end()
    })
  })

  test('from a binding, and required: false admits undefined', () => {
    const app = express()
    const bodies = safeBody()
    app.post('/a', bodies.route({ schema: user, limit: '1kb' }), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<{ name: string; age?: number }>()
    })
    app.post('/b', bodies.route({ schema: order, required: false }), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<Static<typeof order> | undefined>()
    })
  })

  test('through app.use, a Router and app.route', () => {
    const app = express()
    const router = express.Router()
    const bodies = safeBody()
    app.use(bodies.route(user), (req) => {
      expectTypeOf(req.body.name).toEqualTypeOf<string>()
    })
    router.patch('/x', bodies.route(order), (req) => {
      expectTypeOf(req.body.sku).toEqualTypeOf<string>()
    })
    app.route('/y').post(bodies.route(user), (req) => {
      expectTypeOf(req.body.age).toEqualTypeOf<number | undefined>()
    })
  })
})

describe('route(id) types req.body', () => {
  test('as unknown when no map is declared', () => {
    const app = express()
    app.post('/users', safeBody({ schemas: { user } }).route('user'), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<unknown>()
    })
  })

  test('from a declared map of ids to types', () => {
    const schemas = { user, order }
    const app = express()
    const bodies = safeBody<BodiesOf<typeof schemas>>({ schemas })
    app.post('/users', bodies.route('user'), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<BodyOf<typeof user>>()
      // @ts-expect-error not in the user schema
      req.body.sku
    })
    app.post('/orders', bodies.route({ schema: 'order', required: false }), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<Static<typeof order> | undefined>()
    })
    // An id outside the map (a file in a schema folder, say) stays unknown.
    app.post('/other', bodies.route('other'), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<unknown>()
    })
  })
})

describe('route() with a binding only known at run time', () => {
  test('types req.body as unknown', () => {
    const binding = JSON.parse('"user"') as string | RouteBinding
    express().post('/x', safeBody().route(binding), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<unknown>()
    })
  })
})

describe('BodyOf', () => {
  test('is unknown for a schema the compiler cannot see into', () => {
    const loose: { readonly [keyword: string]: unknown } = { type: 'object' }
    expectTypeOf<BodyOf<typeof loose>>().toEqualTypeOf<unknown>()
    expectTypeOf<BodyOf<true>>().toEqualTypeOf<unknown>()
  })

  test('follows nullable types and arrays', () => {
    const tags = {
      type: 'array',
      items: { type: ['string', 'null'] },
    } as const
    expectTypeOf<BodyOf<typeof tags>>().toEqualTypeOf<(string | null)[]>()
  })

  test('leaves a property with a default optional unless it is required', () => {
    // ajv fills a default in only with useDefaults; a required property is sent either way.
    const settings = {
      type: 'object',
      properties: { n: { type: 'number', default: 3 }, s: { type: 'string', default: 'a' } },
      required: ['s'],
      additionalProperties: false,
    } as const
    expectTypeOf<BodyOf<typeof settings>>().toEqualTypeOf<{ n?: number; s: string }>()
    express().post('/x', safeBody().route(settings), (req) => {
      // @ts-expect-error n may be missing: no useDefaults
      const n: number = req.body.n
      void n
    })
  })
})

describe('a binding is checked as a binding', () => {
  test('a misspelt setting is a type error, not a schema keyword', () => {
    safeBody({
      schemas: { user },
      routes: {
        // @ts-expect-error `limt` is no setting (an object with `schema` is a binding)
        'POST /a': { schema: 'user', limt: 5 },
        'POST /b': { schema: 'user', limit: 5 },
        'POST /c': user,
      },
    })
    const bodies = safeBody()
    // @ts-expect-error `maxDept` is no setting
    bodies.route({ schema: user, maxDept: 3 })
    bodies.route({ schema: user, maxDepth: 3 })
  })
})
