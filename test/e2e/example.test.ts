import { fileURLToPath } from 'node:url'
import { encode } from '@msgpack/msgpack'
import protobuf from 'protobufjs'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { app } from '../../examples/app.js'
import { expectPrototypesUntouched, sendBytes } from '../helpers/app.js'

// The example server answers the README's curl lines as the README says.
describe('the example API', () => {
  const json = (path: string, body: string) =>
    request(app).post(path).set('Content-Type', 'application/json').send(body)

  it('answers 201, 400, 413, 415 and 422 as documented', async () => {
    expect((await json('/users', '{"name":"Ada","email":"ada@example.com"}')).status).toBe(201)
    const polluted = await json('/users', '{"name":"Ada","__proto__":{"isAdmin":true}}')
    expect(polluted.status).toBe(400)
    expect(polluted.body.type).toBe('entity.forbidden.key')
    expect((await json('/users', '{"name":')).status).toBe(400)
    expect((await json('/users', `"${'a'.repeat(200_000)}"`)).status).toBe(413)
    const text = await request(app).post('/users').set('Content-Type', 'text/plain').send('hi')
    expect(text.status).toBe(415)
    const invalid = await json('/users', '{"name":"Ada"}')
    expect(invalid.status).toBe(422)
    expect(invalid.body.errors[0].message).toBe("must have required property 'email'")
    const order = await json(
      '/orders',
      '{"items":[{"sku":"ABC-1","quantity":2}],"shipTo":{"street":"1 Main","city":"X"}}',
    )
    expect(order.status).toBe(201)
    expect((await request(app).post('/orders')).status).toBe(400)
    expectPrototypesUntouched()
  })

  it('takes the same user as JSON, MessagePack, YAML and protobuf on POST /users', async () => {
    const user = { name: 'Ada', email: 'ada@example.com', age: 36 }
    const proto = fileURLToPath(new URL('../../proto/demo.proto', import.meta.url))
    const User = protobuf.loadSync(proto).lookupType('demo.User')
    for (const [type, body] of [
      ['application/json', JSON.stringify(user)],
      ['application/vnd.msgpack', encode(user)],
      ['application/yaml', 'name: Ada\nemail: ada@example.com\nage: 36\n'],
      ['application/x-protobuf', User.encode(User.fromObject(user)).finish()],
    ] as const) {
      const res = await sendBytes(
        request(app).post('/users').set('Content-Type', type),
        Buffer.from(body),
      )
      expect(res.status, type).toBe(201)
      expect(res.body, type).toMatchObject(user)
    }
  })
})
