import type { StandardSchemaV1 as SpecSchema } from '@standard-schema/spec'
import { type } from 'arktype'
import express from 'express'
import * as v from 'valibot'
import { describe, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import {
  type BodiesOf,
  type BodyOf,
  safeBody,
  type StandardSchemaOutput,
  type StandardSchemaV1,
} from '../../src/index.js'

// Each schema's output differs from its input: a transform and a default.
const zodUser = z.object({
  name: z.string().transform((s) => s.length),
  age: z.number().default(18),
})
const valibotUser = v.object({
  name: v.pipe(
    v.string(),
    v.transform((s) => s.length),
  ),
  age: v.optional(v.number(), 18),
})
const arkUser = type({ name: type('string').pipe((s) => s.length), age: 'number = 18' })

type Out = { name: number; age: number }

describe('route(standard schema) types req.body as the schema output', () => {
  test('zod', () => {
    express().post('/u/:id', safeBody().route(zodUser), (req, res) => {
      expectTypeOf(req.body).toEqualTypeOf<z.output<typeof zodUser>>()
      expectTypeOf(req.body).toEqualTypeOf<Out>()
      // @ts-expect-error not in the schema
      req.body.nope
      expectTypeOf(req.params.id).toEqualTypeOf<string>()
      res.end()
    })
  })

  test('valibot', () => {
    express().post('/u', safeBody().route(valibotUser), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<v.InferOutput<typeof valibotUser>>()
      expectTypeOf(req.body.name).toEqualTypeOf<number>()
      expectTypeOf(req.body.age).toEqualTypeOf<number>()
    })
  })

  test('arktype', () => {
    express().post('/u', safeBody().route(arkUser), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<typeof arkUser.infer>()
      expectTypeOf(req.body.name).toEqualTypeOf<number>()
    })
  })

  test('in a binding; required: false admits undefined', () => {
    const bodies = safeBody()
    express().post('/a', bodies.route({ schema: zodUser, limit: '1kb' }), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<Out>()
    })
    express().post('/b', bodies.route({ schema: valibotUser, required: false }), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<Out | undefined>()
    })
  })
})

describe('the typed route map', () => {
  test('BodiesOf a record of Standard Schemas types route(id)', () => {
    const schemas = { zodUser, valibotUser, arkUser }
    const bodies = safeBody<BodiesOf<typeof schemas>>({ schemas })
    express().post('/z', bodies.route('zodUser'), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<Out>()
    })
    express().post('/a', bodies.route({ schema: 'arkUser', required: false }), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<typeof arkUser.infer | undefined>()
    })
    expectTypeOf<BodyOf<typeof valibotUser>>().toEqualTypeOf<Out>()
  })

  test('routes, the short form and schemas take them', () => {
    safeBody({ 'POST /u': zodUser, 'POST /v': valibotUser, 'POST /a': arkUser })
    safeBody({
      schemas: { zodUser, plain: { type: 'object' } },
      routes: { 'POST /u': 'zodUser', 'POST /v': valibotUser, 'POST /a': { schema: arkUser } },
    })
  })
})

describe('the local StandardSchemaV1', () => {
  test('is the spec’s interface', () => {
    expectTypeOf<SpecSchema>().toExtend<StandardSchemaV1>()
    expectTypeOf<StandardSchemaV1>().toExtend<SpecSchema>()
    expectTypeOf<SpecSchema<string, number>>().toExtend<StandardSchemaV1<string, number>>()
    expectTypeOf<StandardSchemaV1<string, number>>().toExtend<SpecSchema<string, number>>()
  })

  test('infers the output as the spec does', () => {
    expectTypeOf<StandardSchemaOutput<typeof zodUser>>().toEqualTypeOf<
      SpecSchema.InferOutput<typeof zodUser>
    >()
    expectTypeOf<StandardSchemaOutput<typeof arkUser>>().toEqualTypeOf<
      SpecSchema.InferOutput<typeof arkUser>
    >()
  })
})
