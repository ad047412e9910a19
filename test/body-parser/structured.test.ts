import { fileURLToPath } from 'node:url'
import { encode } from '@msgpack/msgpack'
import protobufjs from 'protobufjs'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
// From the module itself: the package entry loads it on first call (require(esm) of the
// build), tried through the built package in package.test.ts.
import { msgpack, protobuf, yaml } from '../../src/body-parser/structured.js'
import { buildApp, expectRefusal, frameworks, sendBytes } from '../helpers/app.js'

const proto = fileURLToPath(new URL('../../proto', import.meta.url))
const User = protobufjs.loadSync(`${proto}/demo.proto`).lookupType('demo.User')

describe.each(frameworks)('msgpack(), yaml() and protobuf() through %s', (_name, express) => {
  const { app, seen } = buildApp(express, (app, echo) => {
    app.use(msgpack({ limit: '1kb' }))
    app.use(yaml())
    app.use(protobuf({ proto, message: 'demo.User' }))
    app.post('/', echo)
  })
  const post = (type: string, body: string | Uint8Array) =>
    sendBytes(request(app).post('/').set('Content-Type', type), Buffer.from(body))

  it('parses each format into the same value', async () => {
    const user = { name: 'Ada', age: 36 }
    for (const [type, body] of [
      ['application/vnd.msgpack', encode(user)],
      ['application/x-msgpack', encode(user)],
      ['application/yaml', 'name: Ada\nage: 36\n'],
      ['text/yaml', 'name: Ada\nage: 36\n'],
      ['application/x-protobuf', User.encode(User.fromObject(user)).finish()],
    ] as const) {
      const res = await post(type, body)
      expect(res.status, type).toBe(200)
      expect(res.body.body, type).toEqual(user)
    }
  })

  it('passes other content types over, as body-parser does', async () => {
    const res = await post('application/json', '{"a":1}')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ body: '<undefined>' })
  })

  it('refuses pollution, unmapped values and oversized bodies', async () => {
    seen.bodies.length = 0
    const polluted = encode({ constructor: { prototype: { isAdmin: true } } })
    expectRefusal(
      await post('application/vnd.msgpack', polluted),
      400,
      'entity.forbidden.key',
      seen,
    )
    expectRefusal(
      await post('application/yaml', 'a: !!js/function "f"'),
      400,
      'entity.type.unmapped',
      seen,
    )
    expectRefusal(
      await post('application/vnd.msgpack', encode('x'.repeat(2000))),
      413,
      'entity.too.large',
      seen,
    )
    // A decoder's own status survives the read path: 400 and 415, not a blanket 400.
    const badUtf8 = Buffer.from([0x61, 0x3a, 0x20, 0xff])
    expectRefusal(await post('application/yaml', badUtf8), 400, 'entity.utf8.invalid', seen)
    const utf16 = Buffer.from('\ufeffa: 1', 'utf16le')
    expectRefusal(await post('application/yaml', utf16), 415, 'charset.unsupported', seen)
    const unknownField = Buffer.from([0x78, 0x01]) // field 15, varint: not in demo.User
    expectRefusal(
      await post('application/x-protobuf', unknownField),
      400,
      'entity.field.unknown',
      seen,
    )
  })
})

describe('start-up checks', () => {
  it('names a missing message type or .proto file, and a bad option', () => {
    expect(() => protobuf({ proto, message: 'demo.Nobody' })).toThrow(/demo\.Nobody/)
    expect(() => protobuf({ proto: '/no/such/dir', message: 'demo.User' })).toThrow()
    expect(() => protobuf({ proto } as never)).toThrow(/option message/)
    expect(() => msgpack({ largeIntegers: 'round' as never })).toThrow(/largeIntegers/)
    expect(() => yaml({ limit: 'lots' })).toThrow()
  })
})
