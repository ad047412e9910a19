import { encode as encodeMsgpack } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { expectRefusal, frameworks } from '../helpers/app.js'
import { encodeProto, formatApp, media, post } from './helpers.js'

// Binary values (MessagePack bin, protobuf bytes, YAML !!binary) reach the handler as base64
// text, and count against maxStringLength by their bytes, not by the base64 characters: a
// value that fits the limit passes, as a raw body of its size does.

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) % 256))

const bodies = {
  msgpack: (data: Buffer) => Buffer.from(encodeMsgpack({ data })),
  // A `constructor` key sends the MessagePack body through the full guard as well.
  'msgpack (guard walk)': (data: Buffer) =>
    Buffer.from(encodeMsgpack({ constructor: { name: 'x' }, data })),
  protobuf: (data: Buffer) => encodeProto('test.Kitchen', { data }),
  yaml: (data: Buffer) => Buffer.from(`data: !!binary ${data.toString('base64')}\n`),
}
const types: Record<keyof typeof bodies, string> = {
  msgpack: media.msgpack,
  'msgpack (guard walk)': media.msgpack,
  protobuf: media.protobuf,
  yaml: media.yaml,
}
const formats = Object.keys(bodies) as Array<keyof typeof bodies>

describe.each(frameworks)('binary values through %s', (_name, express) => {
  const route = {
    schema: {},
    formats: ['msgpack', 'protobuf', 'yaml'],
    message: 'test.Kitchen',
  } as const
  const { app, seen } = formatApp(express, {
    routes: {
      'POST /small': { ...route, maxStringLength: 1000 },
      'POST /default': route,
    },
  })

  it.each(formats)('%s: 1000 bytes under maxStringLength 1000 pass as base64', async (format) => {
    seen.bodies.length = 0
    const data = bytes(1000)
    const res = await post(app, '/small', types[format], bodies[format](data))
    expect(res.status).toBe(200)
    const got = (seen.bodies[0] as { data: string }).data
    expect(got).toBe(data.toString('base64'))
    expect(got.length).toBeGreaterThan(1000)
  })

  it.each(formats)('%s: 1001 bytes are 400 entity.string.too.long, in bytes', async (format) => {
    seen.bodies.length = 0
    const res = await post(app, '/small', types[format], bodies[format](bytes(1001)))
    expectRefusal(res, 400, 'entity.string.too.long', seen)
    expect(res.body.detail).toBe(
      'A binary value is longer than 1000 bytes (`maxStringLength` is 1000 on POST /small).',
    )
  })

  // YAML spells the value in base64 in the body itself, so its body holds fewer bytes.
  it.each(formats)('%s: a value near the default 100kb limit passes', async (format) => {
    seen.bodies.length = 0
    const data = bytes(format === 'yaml' ? 76_000 : 100_000)
    const res = await post(app, '/default', types[format], bodies[format](data))
    expect(res.status).toBe(200)
    expect((seen.bodies[0] as { data: string }).data).toBe(data.toString('base64'))
  })

  it('a text string is still counted in characters', async () => {
    const res = await post(app, '/small', media.yaml, `name: ${'x'.repeat(1001)}\n`)
    expectRefusal(res, 400, 'entity.string.too.long')
    expect(res.body.detail).toMatch(/^A string is longer than 1000 characters/)
  })
})
