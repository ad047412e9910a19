import type { Server } from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectPrototypesUntouched, frameworks, listen } from '../helpers/app.js'
import { encodeProto, encoders, formatApp, media, post } from './helpers.js'

/**
 * One data model: a value JSON.parse could produce, posted as JSON, MessagePack and YAML
 * (and, in a fixed message shape, protobuf), reaches the handler deep-equal every time.
 */

/** No lone surrogates: UTF-8 cannot carry them (String#isWellFormed is ES2024). */
const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8') === s

// Numbers: any finite double but -0, which JSON cannot carry.
const number = fc
  .oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
  .map((n) => (Object.is(n, -0) ? 0 : n))
const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => wellFormed(s))
const key = text.filter((k) => k !== '__proto__' && k !== 'constructor')

const { value: dataModel } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    text,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
}))

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
const double = fc
  .double({ noNaN: true, noDefaultInfinity: true })
  .map((n) => (Object.is(n, -0) ? 0 : n))
const protoKey = fc.string({ maxLength: 10 }).filter((k) => k !== '__proto__' && wellFormed(k))

/**
 * test.Sample's shape; every field may be absent, lists and maps are absent or non-empty.
 * Not all absent: an empty message is zero bytes, which is no body at all.
 */
const sample = fc
  .record(
    {
      name: text,
      score: double,
      count: int32,
      active: fc.boolean(),
      tags: fc.array(text, { minLength: 1, maxLength: 4 }),
      inner: fc.record(
        { note: text, values: fc.array(int32, { minLength: 1, maxLength: 4 }) },
        { requiredKeys: [] },
      ),
      labels: fc.dictionary(protoKey, text, { minKeys: 1, maxKeys: 4 }),
    },
    { requiredKeys: [] },
  )
  .filter((value) => Object.keys(value).length > 0)

describe.each(frameworks)('one data model on %s', (_name, express) => {
  const { app, seen } = formatApp(express, {
    routes: {
      'POST /any': { schema: true },
      'POST /sample': { schema: true, message: 'test.Sample' },
      'POST /deep': { schema: true, maxDepth: 3 },
    },
  })
  let server: Server
  beforeAll(async () => {
    server = (await listen(app)).server
  })
  afterAll(() => new Promise<void>((done) => server.close(() => done())))

  const deliver = async (path: string, type: string, body: Buffer) => {
    seen.bodies.length = 0
    const res = await post(server, path, type, body)
    expect(res.status, `${type}: ${JSON.stringify(res.body)}`).toBe(200)
    return seen.bodies[0]
  }

  it('hands the handler the same value from JSON, MessagePack and YAML', async () => {
    await fc.assert(
      fc.asyncProperty(dataModel, async (value) => {
        for (const format of ['json', 'msgpack', 'yaml'] as const) {
          expect(await deliver('/any', media[format], encoders[format](value))).toEqual(value)
        }
        expectPrototypesUntouched()
      }),
      { numRuns: 80 },
    )
  })

  it.each([
    ['a number', [[[1]]]],
    ['a string in objects', { a: { b: { c: 'x' } } }],
    ['an empty array', [[[]]]],
    ['arrays and objects', [{ a: [1, 'x'] }]],
    ['nothing but a number', 1],
  ])(
    'holds JSON, MessagePack and YAML to maxDepth alike: 3 levels with %s inside pass',
    async (_name, value) => {
      for (const format of ['json', 'msgpack', 'yaml'] as const) {
        expect(await deliver('/deep', media[format], encoders[format](value))).toEqual(value)
      }
    },
  )

  it.each([
    ['a number', [[[[1]]]]],
    ['an empty object', [[[{}]]]],
    ['a string in objects', { a: { b: { c: { d: 'x' } } } }],
  ])(
    'holds JSON, MessagePack and YAML to maxDepth alike: 4 levels with %s inside are refused',
    async (_name, value) => {
      for (const format of ['json', 'msgpack', 'yaml'] as const) {
        seen.bodies.length = 0
        const res = await post(server, '/deep', media[format], encoders[format](value))
        expect([format, res.status, res.body.type]).toEqual([format, 400, 'entity.too.deep'])
        expect(seen.bodies).toEqual([])
      }
      expectPrototypesUntouched()
    },
  )

  it('hands the handler the same value from all four formats for a fixed message shape', async () => {
    await fc.assert(
      fc.asyncProperty(sample, async (value) => {
        expect(await deliver('/sample', media.protobuf, encodeProto('test.Sample', value))).toEqual(
          value,
        )
        for (const format of ['json', 'msgpack', 'yaml'] as const) {
          expect(await deliver('/sample', media[format], encoders[format](value))).toEqual(value)
        }
      }),
      { numRuns: 60 },
    )
  })
})
