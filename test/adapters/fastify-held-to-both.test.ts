import { createHmac } from 'node:crypto'
import { encode } from '@msgpack/msgpack'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { SafeBodyOptions } from '../../src/index.js'
import safebody, { problemDetails } from '../../src/fastify.js'
import { expectPrototypesUntouched } from '../helpers/app.js'

// A route a `routes` key or an OpenAPI document binds, with a `schema.body` of its own, is held
// to both, as a global instance and a `.route()` one hold it elsewhere: the key's binding
// (formats, limits, signature, schema) first, then schema.body on what it handed on.
describe('safebody/fastify: a route bound by a key and by its own schema.body', () => {
  const document = {
    openapi: '3.0.3',
    info: { title: 'pets', version: '1' },
    servers: [{ url: '/api/v1' }],
    paths: {
      '/pets': {
        post: {
          requestBody: {
            required: true,
            content: {
              'application/msgpack': {
                schema: {
                  type: 'object',
                  required: ['name'],
                  additionalProperties: false,
                  properties: {
                    id: { type: 'integer', readOnly: true },
                    name: { type: 'string', maxLength: 10 },
                  },
                },
              },
            },
          },
          responses: {},
        },
      },
      // An operation without a requestBody: the route takes no body.
      '/pets/mine': { post: { responses: {} } },
    },
  }
  // Each validator sees the one before's output: zod's transform runs on the document's.
  const zodPet = z
    .object({ name: z.string().min(2) })
    .passthrough()
    .transform((pet) => ({ ...pet, name: pet.name.toUpperCase(), zod: true }))
  const msgpack = { 'content-type': 'application/msgpack' }

  async function petsApp(options: SafeBodyOptions, prefix?: string) {
    const ran: unknown[] = []
    const app = Fastify()
    await app.register(safebody, options)
    app.setErrorHandler(problemDetails())
    await app.register(
      async (scope) => {
        for (const path of ['/pets', '/pets/mine']) {
          scope.post(path, { schema: { body: zodPet } }, async (request) => {
            ran.push(request.body)
            return { body: request.body ?? null }
          })
        }
      },
      prefix === undefined ? {} : { prefix },
    )
    await app.ready()
    return { app, ran }
  }

  const refused = (res: { statusCode: number; json(): unknown }, status: number, type: string) => {
    expect([res.statusCode, (res.json() as { type?: string }).type]).toEqual([status, type])
    expectPrototypesUntouched()
  }

  it.each([
    ['an OpenAPI document, under a fastify prefix', { openapi: document }, '/api/v1'],
    [
      'a routes key',
      {
        routes: {
          // The document's schema without the readOnly id, which only OpenAPI reads.
          'POST /pets': {
            schema: {
              type: 'object',
              required: ['name'],
              additionalProperties: false,
              properties: { name: { type: 'string', maxLength: 10 } },
            },
            formats: ['msgpack'],
          },
        },
      },
      undefined,
    ],
  ] as const)('holds the body to %s, then to schema.body', async (_, options, prefix) => {
    const { app, ran } = await petsApp(options as SafeBodyOptions, prefix)
    const url = `${prefix ?? ''}/pets`
    const post = (payload: string | Buffer, headers: Record<string, string> = msgpack) =>
      app.inject({ method: 'POST', url, payload, headers })
    // The document's formats: JSON that zod alone would take is refused.
    const body = { id: 1, name: 'x'.repeat(20), isAdmin: true }
    refused(
      await post(JSON.stringify(body), { 'content-type': 'application/json' }),
      415,
      'content.type.unsupported',
    )
    // Its schema: readOnly id, additionalProperties, maxLength.
    refused(await post(Buffer.from(encode(body))), 422, 'entity.validation.failed')
    refused(
      await post(Buffer.from(encode({ id: 1, name: 'rex' }))),
      422,
      'entity.validation.failed',
    )
    refused(
      await post(Buffer.from(encode({ name: 'rex', isAdmin: true }))),
      422,
      'entity.validation.failed',
    )
    refused(
      await post(Buffer.from(encode({ name: 'x'.repeat(11) }))),
      422,
      'entity.validation.failed',
    )
    // Its guard.
    const polluting = Buffer.from(encode({ name: 'rex', ['__proto__']: { polluted: 1 } }))
    refused(await post(polluting), 400, 'entity.forbidden.key')
    // Then zod, on what the document handed on.
    refused(await post(Buffer.from(encode({ name: 'r' }))), 422, 'entity.validation.failed')
    refused(await post(Buffer.alloc(0)), 400, 'entity.missing')
    const ok = await post(Buffer.from(encode({ name: 'rex' })))
    expect([ok.statusCode, ok.json()]).toEqual([200, { body: { name: 'REX', zod: true } }])
    expect(ran).toEqual([{ name: 'REX', zod: true }])
    await app.close()
  })

  it('refuses a body on a route whose operation has no requestBody, schema.body or not', async () => {
    const { app, ran } = await petsApp({ openapi: document }, '/api/v1')
    const url = '/api/v1/pets/mine'
    const payload = '{"name":"rex"}'
    const json = { 'content-type': 'application/json' }
    const res = await app.inject({ method: 'POST', url, payload, headers: json })
    refused(res, 415, 'route.schema.missing')
    // Without a body, schema.body's own binding still requires one.
    refused(await app.inject({ method: 'POST', url }), 400, 'entity.missing')
    expect(ran).toEqual([])
    await app.close()
  })

  it("holds it to the key's signature and limit, then to schema.body's own settings", async () => {
    const secret = 'webhook-secret'
    const app = Fastify()
    await app.register(safebody, {
      routes: {
        'POST /hooks': {
          schema: { type: 'object', required: ['action'] },
          integrity: { preset: 'github', secret },
          limit: '64b',
        },
      },
    })
    app.setErrorHandler(problemDetails())
    const ran: unknown[] = []
    const event = {
      type: 'object',
      properties: { action: { type: 'string' }, n: { type: 'integer' } },
      required: ['action', 'n'],
    } as const
    app.post(
      '/hooks',
      { schema: { body: event }, config: { safebody: { maxDepth: 2 } } },
      async (request) => {
        ran.push(request.body)
        return { body: request.body }
      },
    )
    const sign = (body: string) => ({
      'content-type': 'application/json',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    })
    const post = (payload: string, headers: Record<string, string>) =>
      app.inject({ method: 'POST', url: '/hooks', payload, headers })
    const payload = '{"action":"opened","n":1}'
    refused(
      await post(payload, { 'content-type': 'application/json' }),
      401,
      'entity.signature.missing',
    )
    const long = JSON.stringify({ action: 'x'.repeat(80), n: 1 })
    refused(await post(long, sign(long)), 413, 'entity.too.large')
    const noAction = '{"n":1}'
    refused(await post(noAction, sign(noAction)), 422, 'entity.validation.failed')
    const noN = '{"action":"opened"}'
    refused(await post(noN, sign(noN)), 422, 'entity.validation.failed')
    const deep = '{"action":"opened","n":1,"a":{"b":{"c":1}}}'
    refused(await post(deep, sign(deep)), 400, 'entity.too.deep')
    const ok = await post(payload, sign(payload))
    expect([ok.statusCode, ok.json()]).toEqual([200, { body: { action: 'opened', n: 1 } }])
    expect(ran).toEqual([{ action: 'opened', n: 1 }])
    await app.close()
  })
})
