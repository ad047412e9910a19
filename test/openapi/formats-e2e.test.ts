import { fileURLToPath } from 'node:url'
import { encode } from '@msgpack/msgpack'
import protobuf from 'protobufjs'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks, sendBytes } from '../helpers/app.js'

const protoDir = fileURLToPath(new URL('../../proto', import.meta.url))
const User = protobuf.loadSync(`${protoDir}/demo.proto`).lookupType('demo.User')

// The media types a requestBody lists become the route's formats, with real decoders.
const document = {
  openapi: '3.1.0',
  info: { title: 'formats', version: '1' },
  paths: {
    '/users': {
      post: {
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/User' } },
            'application/vnd.msgpack': { schema: { $ref: '#/components/schemas/User' } },
            'application/yaml': { schema: { $ref: '#/components/schemas/User' } },
            'application/x-protobuf': {
              schema: { $ref: '#/components/schemas/User' },
              'x-protobuf-message': 'demo.User',
            },
          },
        },
        responses: { '200': { description: 'ok' } },
      },
    },
  },
  components: {
    schemas: {
      User: {
        type: 'object',
        properties: { name: { type: 'string' }, age: { type: 'integer' } },
        required: ['name'],
      },
    },
  },
}

describe.each(frameworks)(
  'an OpenAPI document with every structured format, through %s',
  (_n, express) => {
    const { app, seen } = buildApp(express, (app, echo) => {
      app.use(safeBody({ openapi: document, proto: protoDir }))
      app.post('/users', echo)
    })
    const post = (type: string, body: string | Buffer | Uint8Array) =>
      sendBytes(request(app).post('/users').set('Content-Type', type), Buffer.from(body))

    it('decodes each listed media type to the same value', async () => {
      const user = { name: 'Ada', age: 36 }
      for (const [type, body] of [
        ['application/json', JSON.stringify(user)],
        ['application/vnd.msgpack', encode(user)],
        ['application/yaml', 'name: Ada\nage: 36\n'],
        ['application/x-protobuf', User.encode(User.fromObject(user)).finish()],
      ] as const) {
        const res = await post(type, body)
        expect(res.status, type).toBe(200)
        expect(res.body.body, type).toEqual(user)
      }
    })

    it('refuses a media type the document does not list', async () => {
      seen.bodies.length = 0
      expectRefusal(await post('text/plain', 'Ada'), 415, 'content.type.unsupported', seen)
    })
  },
)
