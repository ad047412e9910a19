import Fastify, { type FastifyInstance, type FastifyTypeProvider } from 'fastify'
import type { FromSchema, JSONSchema } from 'json-schema-to-ts'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { RouteBinding } from '../../src/index.js'
import safebody, { problemDetails } from '../../src/fastify.js'
import { expectPrototypesUntouched } from '../helpers/app.js'
import { contractOptions, contractPaths, contractUser, describeContract } from './contract.js'

async function serve(app: FastifyInstance) {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      app.server.closeAllConnections()
      await app.close()
    },
  }
}

// The contract's bindings given in the plugin's `routes`: fastify routes without schema.body.
describeContract('fastify (routes option)', async () => {
  const app = Fastify()
  await app.register(safebody, contractOptions())
  app.setErrorHandler(problemDetails())
  for (const path of contractPaths) app.post(path, async (request) => ({ body: request.body }))
  return serve(app)
})

// The same bindings written the fastify way: each route's schema.body, its settings in
// config.safebody; the route without schema.body takes no body.
describeContract('fastify (route schema.body)', async () => {
  const { routes = {}, ...settings } = contractOptions()
  const app = Fastify()
  await app.register(safebody, settings)
  app.setErrorHandler((error: Error & { statusCode?: number; type?: string }, _request, reply) =>
    reply
      .code(error.statusCode ?? 500)
      .send({ type: error.type, status: error.statusCode, detail: error.message }),
  )
  for (const path of contractPaths) {
    const binding = routes[`POST ${path}`]
    if (binding === undefined || typeof binding === 'string') {
      app.post(path, async (request) => ({ body: request.body }))
      continue
    }
    // The contract's routes are bindings ({ schema, ...settings }).
    const { schema, ...rest } = binding as RouteBinding
    app.post(
      path,
      { schema: { body: schema }, config: { safebody: { required: false, ...rest } } },
      async (request) => ({ body: request.body }),
    )
  }
  return serve(app)
})

describe('safebody/fastify', () => {
  const point = {
    type: 'object',
    properties: { x: { type: 'integer' } },
    required: ['x'],
    additionalProperties: false,
  } as const

  async function app(build: (app: FastifyInstance) => void, bodyLimit?: number) {
    const instance = Fastify(bodyLimit === undefined ? {} : { bodyLimit })
    await instance.register(safebody, { limit: '10mb' })
    instance.setErrorHandler(problemDetails())
    build(instance)
    await instance.ready()
    return instance
  }

  it('validates the body once, with safebody, and keeps fastify validating the rest', async () => {
    const compiled: string[] = []
    const instance = await app((a) => {
      a.post(
        '/p',
        {
          schema: {
            body: point,
            querystring: { type: 'object', properties: { n: { type: 'integer' } } },
            headers: { type: 'object', properties: { 'X-Tag': { type: 'string', maxLength: 3 } } },
          },
        },
        async (request) => ({ body: request.body, query: request.query }),
      )
      a.post(
        '/own',
        {
          schema: { body: point, querystring: { type: 'object' } },
          validatorCompiler: ({ httpPart }) => {
            compiled.push(String(httpPart))
            return () => true
          },
        },
        async (request) => ({ body: request.body }),
      )
    })
    const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
      instance.inject({
        method: 'POST',
        url,
        payload,
        headers: { 'content-type': 'application/json', ...headers },
      })
    // fastify's ajv would coerce "1" and drop `y`; safebody's refuses both.
    const coerced = await post('/p', '{"x":"1"}')
    expect(coerced.statusCode).toBe(422)
    expect(coerced.json()).toMatchObject({ type: 'entity.validation.failed' })
    expect((await post('/p', '{"x":1,"y":2}')).statusCode).toBe(422)
    const ok = await post('/p?n=5', '{"x":1}')
    expect(ok.json()).toEqual({ body: { x: 1 }, query: { n: 5 } })
    expect((await post('/p?n=five', '{"x":1}')).statusCode).toBe(400)
    expect((await post('/p', '{"x":1}', { 'x-tag': 'long' })).statusCode).toBe(400)
    expect((await post('/own', '{"x":1}')).statusCode).toBe(200)
    expect(compiled).toEqual(['querystring'])
    await instance.close()
  })

  it('requires a body on a schema.body route unless config.safebody says otherwise', async () => {
    const instance = await app((a) => {
      a.post('/r', { schema: { body: point } }, async (request) => ({ body: request.body }))
      a.post(
        '/o',
        { schema: { body: point }, config: { safebody: { required: false } } },
        async (request) => ({ body: request.body ?? null }),
      )
    })
    const missing = await instance.inject({ method: 'POST', url: '/r' })
    expect(missing.statusCode).toBe(400)
    expect(missing.json()).toMatchObject({ type: 'entity.missing' })
    expect((await instance.inject({ method: 'POST', url: '/o' })).json()).toEqual({ body: null })
    await instance.close()
  })

  it('leaves a content type to a parser registered after it (as @fastify/formbody does)', async () => {
    const instance = await app((a) => {
      a.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string' },
        (_r, body, done) => {
          done(null, { form: body })
        },
      )
      a.post('/form', async (request) => request.body)
    })
    const payload = 'a=1'
    const headers = { 'content-type': 'application/x-www-form-urlencoded' }
    const res = await instance.inject({ method: 'POST', url: '/form', payload, headers })
    expect([res.statusCode, res.json()]).toEqual([200, { form: 'a=1' }])
    await instance.close()
  })

  it('leaves a content type to a pattern parser registered after it, request after request', async () => {
    const instance = await app((a) => {
      a.addContentTypeParser(
        /^application\/(?:x-)?yaml(?:;|$)/,
        { parseAs: 'string' },
        (_r, body, done) => {
          done(null, { own: body })
        },
      )
      a.post('/any', { schema: { body: {} } }, async (request) => request.body)
    })
    const send = (type: string, payload: string) =>
      instance.inject({ method: 'POST', url: '/any', payload, headers: { 'content-type': type } })
    // Twice each: the second request finds the parser fastify remembered for its type.
    for (let i = 0; i < 2; i++) {
      const own = await send('application/yaml', 'a: 1')
      expect([own.statusCode, own.json()]).toEqual([200, { own: 'a: 1' }])
      const json = await send('application/vnd.api+json; charset=utf-8', '{"a":1}')
      expect([json.statusCode, json.json()]).toEqual([200, { a: 1 }])
      const refused = await send('application/json', '{"__proto__":{"x":1}}')
      expect([refused.statusCode, refused.json().type]).toEqual([400, 'entity.forbidden.key'])
      const other = await send('image/png', 'x')
      expect([other.statusCode, other.json().type]).toEqual([415, 'content.type.unsupported'])
    }
    expectPrototypesUntouched()
    await instance.close()
  })

  it("honours fastify's bodyLimit as well as safebody's limit", async () => {
    const instance = await app((a) => {
      a.post('/big', { schema: { body: { type: 'string' } } }, async () => ({ ok: true }))
      a.post('/bigger', { schema: { body: { type: 'string' } }, bodyLimit: 4000 }, async () => ({
        ok: true,
      }))
    }, 1000)
    const payload = JSON.stringify('a'.repeat(2000))
    const headers = { 'content-type': 'application/json' }
    const refused = await instance.inject({ method: 'POST', url: '/big', payload, headers })
    expect(refused.statusCode).toBe(413)
    expect(refused.json()).toMatchObject({ type: 'entity.too.large' })
    const taken = await instance.inject({ method: 'POST', url: '/bigger', payload, headers })
    expect(taken.statusCode).toBe(200)
    await instance.close()
  })

  it('answers problem+json for client errors and passes the rest on', async () => {
    const instance = await app((a) => {
      a.post('/boom', async () => {
        throw new Error('internal detail')
      })
    })
    const refused = await instance.inject({
      method: 'POST',
      url: '/nowhere-bound',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/)
    const boom = await instance.inject({ method: 'POST', url: '/boom' })
    expect(boom.statusCode).toBe(500)
    expect(boom.body).not.toMatch(/problem/)
    await instance.close()
  })
})

// A JSON-Schema type provider (what @fastify/type-provider-json-schema-to-ts does): the
// plugin leaves route typing alone, so request.body is typed from schema.body.
interface JsonSchemaProvider extends FastifyTypeProvider {
  validator: this['schema'] extends JSONSchema ? FromSchema<this['schema']> : unknown
  serializer: this['schema'] extends JSONSchema ? FromSchema<this['schema']> : unknown
}

describe('safebody/fastify typing', () => {
  it('keeps request.body typed from schema.body under a type provider', async () => {
    const app = Fastify().withTypeProvider<JsonSchemaProvider>()
    await app.register(safebody)
    app.post('/users', { schema: { body: contractUser } }, async (request) => {
      expectTypeOf(request.body.name).toEqualTypeOf<string>()
      expectTypeOf(request.body.age).toEqualTypeOf<number | undefined>()
      return { name: request.body.name }
    })
    const res = await app.inject({
      method: 'POST',
      url: '/users',
      payload: { name: 'Ada', email: 'ada@example.com' },
    })
    expect(res.json()).toEqual({ name: 'Ada' })
    await app.close()
  })
})
