import { createHmac } from 'node:crypto'
import net from 'node:net'
import { gzipSync } from 'node:zlib'
import Fastify, { type FastifyInstance, type FastifyTypeProvider } from 'fastify'
import type { FromSchema, JSONSchema } from 'json-schema-to-ts'
import express from 'express'
import supertest from 'supertest'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { problemDetails as expressProblems, type RouteBinding, safeBody } from '../../src/index.js'
import safebody, { problemDetails } from '../../src/fastify.js'
import { fastifyPattern } from '../../src/fastify-pattern.js'
import { createEngine } from '../../src/core/engine.js'
import { expectPrototypesUntouched, point } from '../helpers/app.js'
import { expectBindings, tagged } from '../helpers/routing.js'

// The route patterns the plugin tokenizes, counted: never per request for a route it saw added.
vi.mock('../../src/fastify-pattern.js', async (original) => {
  const module = await original<typeof import('../../src/fastify-pattern.js')>()
  return { fastifyPattern: vi.fn(module.fastifyPattern) }
})
import {
  contractGetPath,
  contractOptions,
  contractPaths,
  contractUser,
  describeContract,
} from './contract.js'

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
  app.get(contractGetPath, async (request) => ({ body: request.body }))
  return serve(app)
})

// The same bindings written the fastify way: each route's schema.body, its settings in
// config.safebody; the route without schema.body takes no body.
describeContract('fastify (route schema.body)', async () => {
  const { routes = {}, ...settings } = contractOptions()
  const app = Fastify()
  // fastify refuses schema.body on a GET route: its binding stays in the plugin's routes.
  const getKeys = [`GET ${contractGetPath}`, `HEAD ${contractGetPath}`] as const
  const getRoutes = Object.fromEntries(getKeys.map((key) => [key, routes[key] as RouteBinding]))
  await app.register(safebody, { ...settings, routes: getRoutes })
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
  app.get(contractGetPath, async (request) => ({ body: request.body }))
  return serve(app)
})

describe('safebody/fastify', () => {
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

  it('leaves a content type to a pattern parser registered after it on a route no binding holds, request after request', async () => {
    const instance = await app((a) => {
      a.addContentTypeParser(
        /^application\/(?:x-)?yaml(?:;|$)/,
        { parseAs: 'string' },
        (_r, body, done) => {
          done(null, { own: body })
        },
      )
      a.post('/any', { schema: { body: {} } }, async (request) => request.body)
      a.post('/free', async (request) => request.body)
    })
    const send = (type: string, payload: string, url = '/any') =>
      instance.inject({ method: 'POST', url, payload, headers: { 'content-type': type } })
    // Twice each: the second request finds the parser fastify remembered for its type.
    for (let i = 0; i < 2; i++) {
      const own = await send('application/yaml', 'a: 1', '/free')
      expect([own.statusCode, own.json()]).toEqual([200, { own: 'a: 1' }])
      // On a bound route, what the other parser made is refused, unchecked.
      const bound = await send('application/yaml', '__proto__: {x: 1}')
      expect([bound.statusCode, bound.json().type]).toEqual([415, 'content.type.unsupported'])
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
    const instance = Fastify({ bodyLimit: 1000 })
    await instance.register(safebody, {
      limit: '10mb',
      routes: { 'POST /listed': { schema: { type: 'string' } } },
    })
    instance.setErrorHandler(problemDetails())
    instance.post('/big', { schema: { body: { type: 'string' } } }, async () => ({ ok: true }))
    instance.post(
      '/bigger',
      { schema: { body: { type: 'string' } }, bodyLimit: 4000 },
      async () => ({
        ok: true,
      }),
    )
    instance.post('/listed', async () => ({ ok: true }))
    instance.post(
      '/small',
      { schema: { body: { type: 'string' } }, config: { safebody: { limit: 500 } } },
      async () => ({ ok: true }),
    )
    const payload = JSON.stringify('a'.repeat(2000))
    const headers = { 'content-type': 'application/json' }
    // The detail names the setting that decided: raising safebody's `limit` would not help.
    for (const [url, setting] of [
      ['/big', '`bodyLimit` is 1000B on POST /big'],
      ['/listed', '`bodyLimit` is 1000B on POST /listed'],
      ['/small', '`limit` is 500B on POST /small'],
    ]) {
      const refused = await instance.inject({ method: 'POST', url, payload, headers })
      const { type, detail } = refused.json<{ type: string; detail: string }>()
      expect([url, refused.statusCode, type]).toEqual([url, 413, 'entity.too.large'])
      expect(detail).toContain(`(${setting}).`)
    }
    const taken = await instance.inject({ method: 'POST', url: '/bigger', payload, headers })
    expect(taken.statusCode).toBe(200)
    await instance.close()
  })

  it.each(['enforce', 'report'] as const)(
    "leaves a body sent to a path with no route to fastify's 404, read within the limit and dropped (%s mode)",
    async (mode) => {
      const instance = Fastify({ bodyLimit: 1000 })
      const events: Array<{ action: string; type: string; route: string | null }> = []
      await instance.register(safebody, {
        mode,
        // Nothing is inflated to be dropped: a compressed body is not refused for it.
        inflate: false,
        routes: { 'POST /nowhere': { schema: { type: 'object' } } },
        onViolation: ({ action, type, route }) => events.push({ action, type, route }),
      })
      instance.setErrorHandler(problemDetails())
      const seen: unknown[] = []
      instance.setNotFoundHandler(async (request, reply) => {
        seen.push(request.body)
        return reply.code(404).send({ missing: request.url })
      })
      instance.post('/users', { schema: { body: { type: 'object' } } }, async () => ({}))
      const bodies: Array<[string, string | Buffer, Record<string, string>]> = [
        ['POST', '{"name":"x"}', { 'content-type': 'application/json' }],
        ['POST', '{"__proto__":{"polluted":true}}', { 'content-type': 'application/json' }],
        ['POST', '<a/>', { 'content-type': 'application/xml' }],
        ['POST', 'no type', {}],
        [
          'PUT',
          gzipSync('{"name":"x"}'),
          { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        ],
        ['POST', 'x', { 'content-type': 'application/json', 'content-encoding': 'x-unknown' }],
        ['GET', '{"name":"x"}', { 'content-type': 'application/json' }],
      ]
      for (const url of ['/nope', '/nowhere']) {
        for (const [method, payload, headers] of bodies) {
          const res = await instance.inject({ method, url, payload, headers })
          expect([method, url, res.statusCode, res.json()]).toEqual([
            method,
            url,
            404,
            { missing: url },
          ])
        }
      }
      expect(seen).toEqual(new Array(14).fill(undefined))
      // Over fastify's bodyLimit (and over safebody's, on a socket): 413, as on any route.
      const big = await instance.inject({
        method: 'POST',
        url: '/nope',
        payload: JSON.stringify('a'.repeat(2000)),
        headers: { 'content-type': 'application/json' },
      })
      expect([big.statusCode, big.json().type]).toEqual([413, 'entity.too.large'])
      expect(seen).toHaveLength(14)
      // Only the refusal is recorded, as refusals on any route are (read limits hold in report
      // mode too); events are handed over after the response.
      await new Promise((resolve) => setImmediate(resolve))
      expect(events).toEqual([{ action: 'refused', type: 'entity.too.large', route: null }])
      expectPrototypesUntouched()
      await instance.close()
    },
  )

  it('keeps the connection after a 404 for a body it read and dropped, and closes it for one over the limit or too slow', async () => {
    const instance = Fastify()
    const refusals: string[] = []
    await instance.register(safebody, {
      limit: 100,
      timeout: 300,
      onViolation: ({ type, route }) => refusals.push(`${type} ${route}`),
    })
    instance.setErrorHandler(problemDetails())
    await instance.listen({ port: 0, host: '127.0.0.1' })
    const { port } = instance.server.address() as { port: number }
    const post = (length: number) =>
      `POST /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`
    // Two requests on one connection: the second is answered, so the first body was read.
    const both = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(`${post(2)}{}${post(2)}{}`))
      let text = ''
      socket.on('data', (chunk) => {
        text += chunk
        if (text.split('HTTP/1.1 404').length === 3) socket.end()
      })
      socket.on('close', () => resolve(text))
    })
    expect(both.match(/HTTP\/1\.1 404/g)).toHaveLength(2)
    // Over the limit but sent in full, chunked or with its length, a request pipelined
    // behind it: both answered on a connection kept open.
    const chunked =
      'POST /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
      `Transfer-Encoding: chunked\r\n\r\n96\r\n${'a'.repeat(150)}\r\n0\r\n\r\n`
    for (const over of [`${post(150)}${'a'.repeat(150)}`, chunked]) {
      const pipelined = await new Promise<{ text: string; closed: boolean }>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () =>
          socket.write(`${over}GET /nope HTTP/1.1\r\nHost: x\r\n\r\n`),
        )
        let text = ''
        const timer = setTimeout(() => {
          socket.destroy()
          resolve({ text, closed: false })
        }, 400)
        socket.on('data', (chunk) => (text += chunk))
        socket.on('close', () => {
          clearTimeout(timer)
          resolve({ text, closed: true })
        })
      })
      expect(pipelined.text.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 413', 'HTTP/1.1 404'])
      expect(pipelined.closed).toBe(false)
    }
    // Slower than `timeout`: 408, recorded as any refusal, the socket closed.
    const slow = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(`${post(50)}{"a":`))
      let text = ''
      socket.on('data', (chunk) => (text += chunk))
      socket.on('close', () => resolve(text))
    })
    expect(slow).toMatch(/^HTTP\/1\.1 408 [^]*\r\nconnection: close\r\n/i)
    expect(slow).toContain('"type":"request.timeout"')
    // Declared over the limit and never sent: refused from the headers, the socket closed.
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(post(5000)))
      let text = ''
      socket.on('data', (chunk) => (text += chunk))
      socket.on('close', () => resolve(text))
    })
    expect(refused).toMatch(/^HTTP\/1\.1 413 [^]*\r\nconnection: close\r\n/i)
    expect(refused).toContain('"type":"entity.too.large"')
    await new Promise((resolve) => setImmediate(resolve))
    expect(refusals).toEqual([
      'entity.too.large null',
      'entity.too.large null',
      'request.timeout null',
      'entity.too.large null',
    ])
    expectPrototypesUntouched()
    instance.server.closeAllConnections()
    await instance.close()
  })

  it("holds the bindings found at request time, and report mode's unbound reads, to fastify's bodyLimit", async () => {
    const instance = Fastify({ bodyLimit: 1000 })
    const events: string[] = []
    instance.setErrorHandler(problemDetails())
    // Registered before the plugin: its binding is found by its pattern, at request time.
    instance.post('/early', async () => ({ ok: true }))
    await instance.register(safebody, {
      limit: '10mb',
      mode: 'report',
      routes: { 'POST /early': { type: 'string' }, 'POST /hooks/github': { type: 'string' } },
      onViolation: (event) => {
        events.push(`${event.action} ${event.type}`)
      },
    })
    // One route dispatching several paths: unbound, its pattern is no key's (`/hooks/github`
    // names no route of fastify's).
    instance.post('/hooks/:provider', async () => ({ ok: true }))
    instance.post('/roomy/:provider', { bodyLimit: 4000 }, async () => ({ ok: true }))
    instance.get('/search', async () => ({ ok: true }))
    const payload = JSON.stringify('a'.repeat(2000))
    const headers = { 'content-type': 'application/json' }
    const cases: [string, string][] = [
      ['POST', '/early'],
      // Unbound: report mode reads the body to report it, within bodyLimit too.
      ['POST', '/hooks/github'],
      ['POST', '/hooks/other'],
      ['GET', '/search'],
    ]
    for (const [method, url] of cases) {
      const res = await instance.inject({ method, url, payload, headers })
      expect([url, res.statusCode, res.json().type]).toEqual([url, 413, 'entity.too.large'])
    }
    await new Promise((resolve) => setImmediate(resolve)) // events are delivered after the response
    const tooLarge = 'refused entity.too.large'
    const unbound = 'reported route.schema.missing'
    expect(events).toEqual([tooLarge, ...Array(3).fill([unbound, tooLarge]).flat()])
    // A route's own, larger bodyLimit lets the same body through (reported: it is unbound).
    const roomy = await instance.inject({ method: 'POST', url: '/roomy/x', payload, headers })
    expect(roomy.statusCode).toBe(200)
    await new Promise((resolve) => setImmediate(resolve))
    expect(events.at(-1)).toBe('reported route.schema.missing')
    expectPrototypesUntouched()
    await instance.close()
  })

  it('holds a request to the binding of the route fastify matched, however its URL is spelled', async () => {
    const instance = Fastify({ routerOptions: { caseSensitive: false } })
    await instance.register(safebody, { routes: { 'POST /users': point, 'POST /:page': true } })
    instance.setErrorHandler(problemDetails())
    instance.post('/users', async (request) => ({ users: request.body }))
    instance.post('/:page', async (request) => ({ page: request.body }))
    await instance.ready()
    const post = (url: string) =>
      instance.inject({
        method: 'POST',
        url,
        payload: '{"x":"1","admin":true}',
        headers: { 'content-type': 'application/json' },
      })
    // fastify's router decodes %75 and folds case before it matches: the URL as sent would
    // have named the looser /:page binding, while the /users handler ran.
    for (const url of ['/users', '/%75sers', '/user%73', '/USERS']) {
      const res = await post(url)
      expect([url, res.statusCode, res.json().type]).toEqual([url, 422, 'entity.validation.failed'])
    }
    expect((await post('/other')).json()).toEqual({ page: { x: '1', admin: true } })
    expectPrototypesUntouched()
    await instance.close()
  })

  it('binds a route by its own pattern, never by its URL: wildcards, case and trailing slashes', async () => {
    const instance = Fastify()
    await instance.register(safebody, {
      routes: {
        'POST /users/:id': tagged('id'),
        'POST /files/*rest': tagged('rest'),
        'POST /admin': tagged('admin'),
        'POST /dates/:from-:to': tagged('range'),
        'POST /n/:num': tagged('num'),
        'POST /opt{/:x}': tagged('opt'),
        'POST /a\\:b': tagged('colon'),
        'POST /v1': tagged('v1'),
        'POST /slash': tagged('slash'),
        'POST /slash/': tagged('slash/'),
      },
    })
    instance.setErrorHandler(problemDetails())
    const ran: string[] = []
    const handle = (name: string) => async () => {
      ran.push(name)
      return { ok: true }
    }
    instance.post('/users/:userId', handle('users/:userId'))
    // Its URL, read as a request path, is one the `/users/:id` key matches (`:id` is "*").
    instance.post('/users/*', handle('users/*'))
    instance.post('/files/*', handle('files/*'))
    instance.post('/admin', handle('admin'))
    // fastify routes case-sensitively: `/Admin` is another route, with no key of its own.
    instance.post('/Admin', handle('Admin'))
    instance.post('/:page', handle(':page'))
    instance.post('/*', handle('*'))
    instance.post('/dates/:start-:end', handle('dates'))
    instance.post('/n/:num(^\\d+$)', handle('n'))
    instance.post('/opt/:x?', handle('opt'))
    instance.post('/a::b', handle('a:b'))
    // Two routes to fastify, each with its own key.
    instance.post('/slash', handle('slash'))
    instance.post('/slash/', handle('slash/'))
    // A prefix's `/` route answers `/v1` and `/v1/`: one route, one key.
    await instance.register(
      async (v1) => {
        v1.post('/', handle('v1'))
      },
      { prefix: '/v1' },
    )
    await instance.ready()
    await expectBindings(
      [
        ['/users/7', 'id', 200, 'users/:userId'],
        ['/users/7', 'rest', 422, ''],
        // The wildcard route has no key of its own: no body, whatever the `:id` key matches.
        ['/users/7/8', 'id', 415, ''],
        ['/files/a/b', 'rest', 200, 'files/*'],
        ['/files/a/b', 'id', 422, ''],
        ['/admin', 'admin', 200, 'admin'],
        ['/Admin', 'admin', 415, ''],
        // fastify routes these to `/:page` and `/*`: neither has a binding, although the URL
        // folds to the `/admin` key's.
        ['/ADMIN', 'admin', 415, ''],
        ['/admin/', 'admin', 415, ''],
        ['/dates/1-2', 'range', 200, 'dates'],
        ['/n/12', 'num', 200, 'n'],
        ['/opt', 'opt', 200, 'opt'],
        ['/opt/y', 'opt', 200, 'opt'],
        ['/a:b', 'colon', 200, 'a:b'],
        ['/v1', 'v1', 200, 'v1'],
        ['/v1/', 'v1', 200, 'v1'],
        ['/slash', 'slash', 200, 'slash'],
        ['/slash/', 'slash/', 200, 'slash/'],
        ['/slash/', 'slash', 422, ''],
      ],
      ran,
      async (url, payload) => {
        const res = await instance.inject({
          method: 'POST',
          url,
          payload,
          headers: { 'content-type': 'application/json' },
        })
        return { status: res.statusCode, type: async () => res.json().type }
      },
    )
    await instance.close()
  })

  it('tokenizes a route pattern once: when the route is added, or on the first request of a route added before', async () => {
    // Files share a worker (isolate: false): another may have loaded the plugin, with the
    // tokenizer as it was, before this file's mock. A fresh copy of both sees the mock.
    vi.resetModules()
    const { default: plugin } = await import('../../src/fastify.js')
    const { fastifyPattern: counted } = await import('../../src/fastify-pattern.js')
    const instance = Fastify()
    instance.post('/early/:id', async () => ({ ok: true }))
    await instance.register(plugin, { routes: { 'POST /early/:key': true, 'POST /late': true } })
    instance.post('/late', async () => ({ ok: true }))
    instance.post('/unbound/:id', async () => ({ ok: true }))
    await instance.ready()
    const tokenized = vi.mocked(counted)
    tokenized.mockClear()
    const send = (url: string) =>
      instance.inject({
        method: 'POST',
        url,
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      })
    for (let i = 0; i < 3; i++) {
      expect((await send('/late')).statusCode).toBe(200)
      expect((await send(`/unbound/${i}`)).statusCode).toBe(415)
      expect((await send(`/early/${i}`)).statusCode).toBe(200)
      // A bodiless request is looked up too (a route may require a body).
      expect((await instance.inject({ method: 'POST', url: `/unbound/${i}` })).statusCode).toBe(200)
    }
    expect(tokenized.mock.calls).toEqual([['/early/:id']])
    await instance.close()
  })

  it.each([
    ['/users/:id', '/users/:userId'],
    ['/:a-:b', '/:x-:y'],
    ['/n/:id', '/n/:id(^\\d+$)'],
    ['/o{/:x}', '/o/:x?'],
    ['/a\\:b', '/a::b'],
    ['/f/*rest', '/f/*'],
    ['/users', '/users'],
  ])('reads the key %s and the fastify URL %s as one pattern', (key, url) => {
    const engine = createEngine(
      { routes: { [`POST ${key}`]: true } },
      { caseSensitive: true, strict: true },
    )
    expect(engine.byPattern('POST', fastifyPattern(url))).toBeDefined()
    expect(engine.byPattern('POST', fastifyPattern(`${url}/z`))).toBeUndefined()
  })

  // Routes added before the plugin get its hook too (fastify hands a route its instance's
  // hooks when the server gets ready); onRoute never saw them.
  it.each([
    ['added after the plugin', false],
    ['added before the plugin', true],
  ])(
    'takes the requests fastify hands no parser as the Express middleware does, routes %s',
    async (_, early) => {
      const search = {
        type: 'object',
        properties: { q: { type: 'string' } },
        required: ['q'],
        additionalProperties: false,
      } as const
      const events: string[] = []
      const options = () => ({
        routes: {
          'GET /search': search,
          'DELETE /items/:id': search,
          'POST /needs': { schema: search, required: true },
          'POST /soft': { schema: search, required: true, mode: 'report' as const },
        },
        onViolation: (event: { type: string; action: string }) => {
          events.push(`${event.action} ${event.type}`)
        },
      })
      const echo = { body: (body: unknown) => ({ body: body ?? null }) }
      const viaFastify = Fastify()
      viaFastify.setErrorHandler(problemDetails())
      const addRoutes = () => {
        for (const [method, url] of [
          ['GET', '/search'],
          ['GET', '/other'],
          ['DELETE', '/items/:id'],
          ['POST', '/needs'],
          ['POST', '/soft'],
        ] as const) {
          viaFastify.route({ method, url, handler: async (request) => echo.body(request.body) })
        }
      }
      if (early) addRoutes()
      await viaFastify.register(safebody, options())
      if (!early) addRoutes()
      await viaFastify.ready()
      const viaExpress = express()
      viaExpress.use(safeBody(options()))
      viaExpress.all(['/search', '/other', '/items/:id', '/needs', '/soft'], (req, res) => {
        res.json(echo.body(req.body))
      })
      viaExpress.use(expressProblems())
      const json = { 'content-type': 'application/json' }
      const cases: Array<[string, string, Record<string, string>, string, number, unknown]> = [
        ['GET', '/search', json, '{"q":"a"}', 200, { body: { q: 'a' } }],
        ['GET', '/search', json, '{"x":1}', 422, 'entity.validation.failed'],
        ['GET', '/search', json, '{"__proto__":{"polluted":1}}', 400, 'entity.forbidden.key'],
        ['GET', '/search', {}, '', 200, { body: null }],
        ['GET', '/other', json, '{"q":"a"}', 415, 'route.schema.missing'],
        ['GET', '/other', {}, '', 200, { body: null }],
        ['DELETE', '/items/7', {}, '{"q":"a"}', 415, 'content.type.unsupported'],
        ['DELETE', '/items/7', json, '{"q":"a"}', 200, { body: { q: 'a' } }],
        ['POST', '/needs', {}, '', 400, 'entity.missing'],
        ['POST', '/soft', {}, '', 200, { body: null }],
      ]
      for (const [method, url, headers, payload, status, expected] of cases) {
        const name = `${method} ${url} ${payload}`
        const fastified = await viaFastify.inject({ method, url, headers, payload })
        const agent = supertest(viaExpress)
        const verb =
          method === 'GET'
            ? agent.get(url)
            : method === 'DELETE'
              ? agent.delete(url)
              : agent.post(url)
        const expressed = await verb.set(headers).send(payload)
        for (const [server, code, body] of [
          ['fastify', fastified.statusCode, fastified.json()],
          ['express', expressed.status, expressed.body],
        ] as const) {
          expect([name, server, code]).toEqual([name, server, status])
          if (typeof expected === 'string') expect((body as { type: string }).type).toBe(expected)
          else expect(body).toEqual(expected)
        }
      }
      // Report mode reported the missing body (once per server) and refused nothing.
      expect(events.filter((e) => e === 'reported entity.missing')).toHaveLength(2)
      expectPrototypesUntouched()
      await viaFastify.close()
    },
  )

  it('finds the routes binding of a route added before the plugin by its pattern, on its first request', async () => {
    const secret = 'hook-secret'
    const signed = { schema: point, integrity: { preset: 'github' as const, secret } }
    const instance = Fastify()
    // A route takes the error handler set when it is added.
    instance.setErrorHandler(problemDetails())
    // Registered before the plugin: onRoute never sees them.
    instance.post('/early', async (request) => ({ body: request.body }))
    instance.post('/early/:id', async (request) => ({ body: request.body }))
    // Added before too, with no key of its pattern (`/early/:key` is not `/early/:id/x`).
    instance.post('/early/:id/x', async (request) => ({ body: request.body }))
    await instance.register(safebody, {
      routes: { 'POST /early': signed, 'POST /early/:key': signed },
    })
    await instance.ready()
    const payload = '{"x":1}'
    const signature = `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`
    for (const url of ['/early', '/early/7']) {
      const send = (headers: Record<string, string>) =>
        instance.inject({
          method: 'POST',
          url,
          payload,
          headers: { 'content-type': 'application/json', ...headers },
        })
      const unsigned = await send({})
      expect([url, unsigned.statusCode, unsigned.json().type]).toEqual([
        url,
        401,
        'entity.signature.missing',
      ])
      const ok = await send({ 'x-hub-signature-256': signature })
      expect([url, ok.statusCode, ok.json()]).toEqual([url, 200, { body: { x: 1 } }])
    }
    for (let i = 0; i < 2; i++) {
      const unbound = await instance.inject({
        method: 'POST',
        url: '/early/7/x',
        payload,
        headers: { 'content-type': 'application/json' },
      })
      expect([unbound.statusCode, unbound.json().type]).toEqual([415, 'route.schema.missing'])
    }
    expectPrototypesUntouched()
    await instance.close()
  })

  it.each([true, false])(
    "holds a HEAD to its path's GET binding where fastify runs the GET handler (exposeHeadRoutes: %s)",
    async (exposeHeadRoutes) => {
      const secret = 'head-secret'
      const instance = Fastify({ exposeHeadRoutes })
      await instance.register(safebody, {
        routes: {
          'GET /search': { schema: point, required: true },
          'GET /hook': { schema: point, integrity: { preset: 'github', secret } },
        },
      })
      instance.setErrorHandler(problemDetails())
      const ran: string[] = []
      instance.get('/search', async () => ran.push('search'))
      instance.get('/hook', async () => ran.push('hook'))
      const head = (url: string) => instance.inject({ method: 'HEAD', url })
      const search = await head('/search')
      const hook = await head('/hook')
      if (exposeHeadRoutes) {
        // The HEAD route fastify adds runs the GET handler: held to the GET binding.
        expect(search.statusCode).toBe(400)
        expect(search.headers['content-type']).toMatch(/^application\/problem\+json/)
        expect(hook.statusCode).toBe(401)
      } else {
        // No HEAD route, no handler: fastify's 404 stands.
        expect(search.statusCode).toBe(404)
        expect(hook.statusCode).toBe(404)
      }
      expect(ran).toEqual([])
      expectPrototypesUntouched()
      await instance.close()
    },
  )

  it.each([false, true])(
    'checks a body sent with a method added by addHttpMethod (hasBody: %s)',
    async (hasBody) => {
      const instance = Fastify()
      instance.addHttpMethod('MKCOL', { hasBody })
      await instance.register(safebody, { routes: { 'MKCOL /dav': point } })
      instance.setErrorHandler(problemDetails())
      const ran: unknown[] = []
      instance.route({
        method: 'MKCOL',
        url: '/dav',
        handler: async (request) => {
          ran.push(request.body)
          return { body: request.body ?? null }
        },
      })
      const send = (payload: string) =>
        instance.inject({
          method: 'MKCOL',
          url: '/dav',
          payload,
          headers: { 'content-type': 'application/json' },
        })
      const ok = await send('{"x":1}')
      expect([ok.statusCode, ok.json()]).toEqual([200, { body: { x: 1 } }])
      const invalid = await send('{"x":"a"}')
      expect(invalid.statusCode).toBe(422)
      expect(invalid.json().type).toBe('entity.validation.failed')
      const polluted = await send('{"__proto__":{"polluted":1},"x":1}')
      expect(polluted.statusCode).toBe(400)
      expect(polluted.json().type).toBe('entity.forbidden.key')
      expect(ran).toEqual([{ x: 1 }])
      expectPrototypesUntouched()
      await instance.close()
    },
  )

  it("runs its hook for GET bodies in registration order with the app's own instance hooks", async () => {
    const seen: string[] = []
    const instance = Fastify()
    instance.addHook('preValidation', async (request) => {
      seen.push(`before ${JSON.stringify(request.body ?? null)}`)
    })
    await instance.register(safebody, { routes: { 'GET /search': point } })
    instance.addHook('preValidation', async (request) => {
      seen.push(`after ${JSON.stringify(request.body ?? null)}`)
    })
    instance.get('/search', async (request) => ({ body: request.body }))
    const res = await instance.inject({
      method: 'GET',
      url: '/search',
      payload: '{"x":1}',
      headers: { 'content-type': 'application/json' },
    })
    expect([res.statusCode, res.json()]).toEqual([200, { body: { x: 1 } }])
    expect(seen).toEqual(['before null', 'after {"x":1}'])
    await instance.close()
  })

  it('leaves a body to a parser registered after it that answers without one (as multipart does) on a route no binding holds', async () => {
    const instance = Fastify()
    await instance.register(safebody, { routes: { 'POST /bound': true } })
    instance.setErrorHandler(problemDetails())
    instance.addContentTypeParser('multipart/form-data', (_request, _payload, done) => {
      done(null)
    })
    instance.post('/bound', async () => ({ ran: true }))
    instance.post('/upload', async (request) => {
      const chunks: Buffer[] = []
      for await (const chunk of request.raw) chunks.push(chunk as Buffer)
      return { own: Buffer.concat(chunks).toString() }
    })
    const res = await instance.inject({
      method: 'POST',
      url: '/upload',
      payload: '--b\r\n\r\nfile\r\n--b--',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
    })
    expect([res.statusCode, res.json()]).toEqual([200, { own: '--b\r\n\r\nfile\r\n--b--' }])
    // A bound route refuses it: safebody read none of it.
    const bound = await instance.inject({
      method: 'POST',
      url: '/bound',
      payload: '--b\r\n\r\nfile\r\n--b--',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
    })
    expect([bound.statusCode, bound.json().type]).toEqual([415, 'content.type.unsupported'])
    expectPrototypesUntouched()
    await instance.close()
  })

  describe('the connection after a refusal of a body that fully arrived', () => {
    /** Send `request` raw; the answer's status and Connection header, and whether it closed. */
    function exchange(port: number, request: string) {
      return new Promise<{ status: string; connection: string; closed: boolean }>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(request))
        let text = ''
        const done = (closed: boolean) => {
          clearTimeout(timer)
          socket.destroy()
          const head = text.split('\r\n\r\n')[0] ?? ''
          resolve({
            status: head.slice(9, 12),
            connection: /\r\nconnection: ([^\r]*)/i.exec(head)?.[1]?.toLowerCase() ?? '',
            closed,
          })
        }
        const timer = setTimeout(() => done(false), 400)
        socket.on('data', (chunk) => (text += chunk))
        socket.on('close', () => done(true))
      })
    }
    const csv = (version: string, extra = '') =>
      `POST /p HTTP/${version}\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 3\r\n${extra}\r\na,b`

    it('is kept as the request asked: keep-alive, close, or keep-alive on HTTP/1.0', async () => {
      const instance = await app((a) => a.post('/p', async () => ({})))
      await instance.listen({ port: 0, host: '127.0.0.1' })
      const { port } = instance.server.address() as { port: number }
      expect(await exchange(port, csv('1.1'))).toEqual({
        status: '415',
        connection: 'keep-alive',
        closed: false,
      })
      expect(await exchange(port, csv('1.1', 'Connection: close\r\n'))).toEqual({
        status: '415',
        connection: 'close',
        closed: true,
      })
      expect(await exchange(port, csv('1.0', 'Connection: keep-alive\r\n'))).toEqual({
        status: '415',
        connection: 'keep-alive',
        closed: false,
      })
      expectPrototypesUntouched()
      instance.server.closeAllConnections()
      await instance.close()
    })

    it('answers requests pipelined behind a Content-Type fastify refuses itself', async () => {
      const instance = await app((a) => a.post('/p', { schema: { body: {} } }, async () => ({})))
      await instance.listen({ port: 0, host: '127.0.0.1' })
      const { port } = instance.server.address() as { port: number }
      const valid =
        'POST /p HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'
      // An empty type, one that is no media type, a list: fastify refuses each with 415 as
      // the headers are parsed, before its body (in the same write) is.
      for (const type of ['', 'foo', 'application/json, text/plain']) {
        const refused = `POST /p HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: 2\r\n\r\n{}`
        const text = await new Promise<string>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () =>
            socket.write(
              `${valid}${refused}${valid.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}`,
            ),
          )
          let received = ''
          const timer = setTimeout(() => socket.destroy(), 3000)
          socket.on('data', (chunk) => (received += chunk))
          socket.on('close', () => {
            clearTimeout(timer)
            resolve(received)
          })
        })
        expect(text.match(/HTTP\/1\.1 \d{3}/g), type).toEqual([
          'HTTP/1.1 200',
          'HTTP/1.1 415',
          'HTTP/1.1 200',
        ])
        expect(text).toContain('"type":"content.type.unsupported"')
      }
      expectPrototypesUntouched()
      instance.server.closeAllConnections()
      await instance.close()
    })

    it('is closed while fastify shuts down, so that close() resolves', async () => {
      const instance = Fastify({ return503OnClosing: false })
      await instance.register(safebody)
      instance.setErrorHandler(problemDetails())
      instance.post('/slow', { schema: { body: {} } }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 200))
        return {}
      })
      await instance.listen({ port: 0, host: '127.0.0.1' })
      const { port } = instance.server.address() as { port: number }
      const socket = net.connect(port, '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      let text = ''
      socket.on('data', (chunk) => (text += chunk))
      socket.on('error', () => {})
      const closedSocket = new Promise((resolve) => socket.once('close', resolve))
      socket.write(
        'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
      const closing = instance.close()
      socket.write(csv('1.1').replace('/p', '/slow'))
      await Promise.all([closing, closedSocket])
      expect(text).toMatch(/^HTTP\/1\.1 200/)
      expect(text).toMatch(/HTTP\/1\.1 415 [^]*\r\nconnection: close\r\n/i)
      expect(text).toContain('"type":"content.type.unsupported"')
      expectPrototypesUntouched()
    })
  })

  it('refuses through inject() without touching a socket inject() does not have', async () => {
    const instance = await app((a) => a.post('/p', async () => ({})))
    vi.useFakeTimers({ toFake: ['setTimeout'] })
    try {
      const res = await instance.inject({
        method: 'POST',
        url: '/p',
        payload: 'a,b',
        headers: { 'content-type': 'text/csv' },
      })
      expect(res.statusCode).toBe(415)
      expect(res.json()).toMatchObject({ type: 'route.schema.missing' })
      // The connection of a refused request is cut a second after the answer: here there is
      // none (it threw an uncaught TypeError).
      expect(() => vi.advanceTimersByTime(2000)).not.toThrow()
      expectPrototypesUntouched()
    } finally {
      vi.useRealTimers()
    }
    await instance.close()
  })

  it('answers problem+json for client errors and passes the rest on', async () => {
    const instance = await app((a) => {
      a.post('/boom', async () => {
        throw new Error('internal detail')
      })
      a.post('/unbound', async () => ({}))
    })
    const refused = await instance.inject({
      method: 'POST',
      url: '/unbound',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(refused.statusCode).toBe(415)
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/)
    const boom = await instance.inject({ method: 'POST', url: '/boom' })
    expect(boom.statusCode).toBe(500)
    expect(boom.body).not.toMatch(/problem/)
    await instance.close()
  })

  it('answers in its catalogue what fastify refuses before any parser runs', async () => {
    const instance = await app((a) => {
      a.route({ method: 'QUERY', url: '/search', handler: async () => ({}) })
      a.post('/unbound', async () => ({}))
    })
    // RFC 10008: a QUERY must say its Content-Type; fastify refuses one that does not.
    const query = await instance.inject({ method: 'QUERY' as 'POST', url: '/search' })
    expect(query.statusCode).toBe(415)
    expect(query.json()).toMatchObject({ type: 'content.type.unsupported', status: 415 })
    const invalid = await instance.inject({
      method: 'POST',
      url: '/unbound',
      payload: '{}',
      headers: { 'content-type': 'foo' },
    })
    expect(invalid.json()).toMatchObject({ type: 'content.type.unsupported', status: 415 })
    expectPrototypesUntouched()
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
