import fc from 'fast-check'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { memberNames } from '../../src/decoders/json.js'
import {
  buildApp,
  expectPrototypesUntouched,
  expectRefusal,
  frameworks,
  sendBytes,
} from '../helpers/app.js'
import { media } from './helpers.js'

// `{"qty":1,"qty":-1}` means -1 to JSON.parse and 1 to a parser that keeps the first: a check
// done elsewhere can see another value than the handler. duplicateKeys: 'refuse' refuses such
// bodies in JSON, YAML and MessagePack, without parsing anything twice.

/** MessagePack map {qty: 1, qty: -1}, by hand: no encoder writes a key twice. */
const msgpackQty = Buffer.from([0x82, 0xa3, 0x71, 0x74, 0x79, 0x01, 0xa3, 0x71, 0x74, 0x79, 0xff])
/** {1: "a", "1": "b"}: an integer key is its decimal text, so these collide. */
const msgpackOne = Buffer.from([0x82, 0x01, 0xa1, 0x61, 0xa1, 0x31, 0xa1, 0x62])
/** [{a: 1}, {a: 2}]: the same key in two objects is no duplicate. */
const msgpackTwoObjects = Buffer.from([0x92, 0x81, 0xa1, 0x61, 0x01, 0x81, 0xa1, 0x61, 0x02])

describe.each(frameworks)('duplicate keys through %s', (_name, express) => {
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(
      safeBody({
        routes: {
          'POST /last': true,
          'POST /refuse': { schema: true, duplicateKeys: 'refuse' },
          // Deeper than the one-pass walk recurses: the guard's path counts keys instead.
          'POST /deep': { schema: true, duplicateKeys: 'refuse', maxDepth: 2000 },
        },
      }),
    )
    app.post(/.*/, echo)
  })
  const post = (path: string, type: string, body: string | Buffer) =>
    sendBytes(request(app).post(path).type(type), body)
  const accepted = async (path: string, type: string, body: string | Buffer, value: unknown) => {
    seen.bodies.length = 0
    const res = await post(path, type, body)
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([value])
    seen.bodies.length = 0
  }

  it('by default JSON and MessagePack keep the last value, as JSON.parse does; YAML refuses', async () => {
    await accepted('/last', media.json, '{"qty":1,"qty":-1}', { qty: -1 })
    await accepted('/last', media.msgpack, msgpackQty, { qty: -1 })
    expectRefusal(
      await post('/last', media.yaml, 'qty: 1\nqty: -1\n'),
      400,
      'entity.parse.failed',
      seen,
    )
  })

  it.each([
    ['JSON', media.json, '{"qty":1,"qty":-1}'],
    ['JSON, nested in an array', media.json, '{"a":[{"b":1},{"b":2,"c":0,"b":3}]}'],
    ['JSON, the same key escaped', media.json, '{"a":1,"\\u0061":2}'],
    ['JSON, spaces before the colon', media.json, '{ "a" : 1 ,\n "a"\t: 2 }'],
    ['JSON, a key ending in a backslash', media.json, '{"a\\\\":1,"a\\\\":2}'],
    ['YAML', media.yaml, 'qty: 1\nqty: -1\n'],
    ['YAML, flow style', media.yaml, '{a: 1, a: 2}'],
    ['YAML, 1 and "1"', media.yaml, '1: a\n"1": b\n'],
    ['MessagePack', media.msgpack, msgpackQty],
    ['MessagePack, 1 and "1"', media.msgpack, msgpackOne],
  ])("duplicateKeys: 'refuse': %s is 400 entity.key.duplicate", async (_what, type, body) => {
    const res = await post('/refuse', type, body)
    expectRefusal(res, 400, 'entity.key.duplicate', seen)
    expect(res.body.detail).toBe(
      "An object in the body holds the same key twice (`duplicateKeys` is 'refuse' on POST /refuse).",
    )
  })

  it("duplicateKeys: 'refuse' passes what only looks like a repeat", async () => {
    await accepted('/refuse', media.json, '[{"a":1},{"a":2}]', [{ a: 1 }, { a: 2 }])
    await accepted('/refuse', media.json, '{"a":"\\"a\\":","b":"a:"}', { a: '"a":', b: 'a:' })
    await accepted('/refuse', media.json, '{"a\\"":1,"a":2}', { 'a"': 1, a: 2 })
    await accepted('/refuse', media.json, '{"A":1,"a":2}', { A: 1, a: 2 })
    await accepted('/refuse', media.msgpack, msgpackTwoObjects, [{ a: 1 }, { a: 2 }])
    await accepted('/refuse', media.yaml, 'b: &x {k: 1}\nc:\n  <<: *x\n  k: 2\n', {
      b: { k: 1 },
      c: { k: 2 },
    })
  })

  it('holds on bodies the guard walks instead of the one-pass check', async () => {
    const deep = (inner: string) => `${'['.repeat(1500)}${inner}${']'.repeat(1500)}`
    await accepted('/deep', media.json, deep('{"a":1}'), JSON.parse(deep('{"a":1}')))
    expectRefusal(
      await post('/deep', media.json, deep('{"a":1,"a":2}')),
      400,
      'entity.key.duplicate',
      seen,
    )
  })
})

describe('duplicateKeys at start-up', () => {
  it('takes only refuse or last', () => {
    expect(() =>
      safeBody({ routes: { 'POST /x': { schema: true, duplicateKeys: 'first' as never } } }),
    ).toThrow(`safebody: route "POST /x": duplicateKeys must be 'refuse' or 'last'`)
    expectPrototypesUntouched()
  })
})

describe('memberNames counts the member names JSON text spells', () => {
  const keys = (value: unknown): number => {
    if (typeof value !== 'object' || value === null) return 0
    const children = Object.values(value)
    return (
      (Array.isArray(value) ? 0 : children.length) +
      children.reduce<number>((n, c) => n + keys(c), 0)
    )
  }

  it('for any JSON value, however it is spaced (strings with quotes, backslashes, colons)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 1, 2, '\t'), (value, space) => {
        expect(memberNames(JSON.stringify(value, null, space))).toBe(keys(value))
      }),
      { numRuns: 500 },
    )
  })
})
