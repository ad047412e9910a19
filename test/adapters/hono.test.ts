import { createHmac } from 'node:crypto'
import { createServer as createHttp2Server } from 'node:http2'
import { type AddressInfo, connect } from 'node:net'
import { gzipSync } from 'node:zlib'
import { serve as serveNode } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { methodOverride } from 'hono/method-override'
import { validator } from 'hono/validator'
import { describe, expect, it } from 'vitest'
import { safeBody, validBody } from '../../src/hono.js'
import { expectPrototypesUntouched, http2Post, untilClosed } from '../helpers/app.js'
import { expectBindings, splitKeys } from '../helpers/routing.js'
import { eventRecorder, tick } from '../helpers/violations.js'
import {
  contractLimited,
  contractOptions,
  contractGetPath,
  contractPaths,
  contractUser,
  contractUserStrict,
  throwsNothing,
  thenableOutput,
  describeContract,
  expectServerFault,
  expectHeldToBoth,
} from './contract.js'

async function serve(app: Hono) {
  const server = await new Promise<ReturnType<typeof serveNode>>((resolve) => {
    const s = serveNode({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      ;(server as unknown as { closeAllConnections(): void }).closeAllConnections()
      server.close()
    },
  }
}

describeContract('hono', async () => {
  const app = new Hono()
  const bodies = safeBody(contractOptions())
  app.use(bodies)
  for (const path of contractPaths) app.post(path, (c) => c.json({ body: validBody(c) }))
  app.get(contractGetPath, (c) => c.json({ body: validBody(c) }))
  return serve(app)
})

/** The problem document's `type`. */
const typeOf = async (res: Response) => ((await res.json()) as { type?: unknown }).type

const post = (baseUrl: string, path: string, body: string, type = 'application/json') =>
  fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': type }, body })

describe('safebody/hono', () => {
  it('answers a schema that throws nothing with a 500; the handler never runs', async () => {
    const ran: unknown[] = []
    const app = new Hono()
    // Hono's own handler answers 500 too, and logs the error: kept quiet here.
    app.onError((_err, c) => c.text('refused', 500))
    app.use(safeBody({ 'POST /x': throwsNothing }))
    app.post('/x', (c) => {
      ran.push(validBody(c))
      return c.text('handed on')
    })
    const { baseUrl, close } = await serve(app)
    await expectServerFault(baseUrl, ran, close)
  })

  it.each([false, true])(
    'hands on an output that is a thenable as it is (async: %s)',
    async (async) => {
      const { schema, seen, expectHandedOn } = thenableOutput(async)
      const app = new Hono()
      app.use(safeBody({ 'POST /x': schema }))
      app.post('/x', (c) => {
        seen.push(validBody(c))
        return c.text('handed on')
      })
      const { baseUrl, close } = await serve(app)
      await expectHandedOn(baseUrl, close)
    },
  )

  it('types c.req.valid("json") on a per-route middleware', async () => {
    const bodies = safeBody()
    const app = new Hono().post('/users', bodies.route(contractUser), (c) => {
      const name: string = c.req.valid('json').name
      return c.json({ name })
    })
    const { baseUrl, close } = await serve(app)
    try {
      const ok = await post(baseUrl, '/users', '{"name":"Ada","email":"ada@example.com"}')
      expect(ok.status).toBe(200)
      expect(await ok.json()).toEqual({ name: 'Ada' })
      const bad = await post(baseUrl, '/users', '{"name":"Ada"}')
      expect(bad.status).toBe(422)
      expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(await bad.json()).toMatchObject({ status: 422, type: 'entity.validation.failed' })
      const polluted = await post(baseUrl, '/users', '{"__proto__":{"x":1},"name":"A"}')
      expect(polluted.status).toBe(400)
      expect(((await polluted.json()) as { type: string }).type).toBe('entity.forbidden.key')
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })

  it('throws an HTTPException whose cause is the catalogued refusal, for app.onError', async () => {
    const seen: unknown[] = []
    const app = new Hono()
    app.onError((err) => {
      seen.push(err instanceof HTTPException ? err.cause : err)
      if (err instanceof HTTPException) return err.getResponse()
      return new Response(null, { status: 500 })
    })
    app.use(safeBody({ 'POST /n': { type: 'object', required: ['a'] } }))
    app.post('/n', (c) => c.json({ body: validBody(c) }))
    const { baseUrl, close } = await serve(app)
    try {
      const ok = await post(baseUrl, '/n?x=1', '{"a":1}')
      expect(await ok.json()).toEqual({ body: { a: 1 } })
      const bad = await post(baseUrl, '/n', '{"b":1}')
      expect(bad.status).toBe(422)
      const csv = await post(baseUrl, '/n', 'a,b', 'text/csv')
      expect(csv.status).toBe(415)
      expect(seen).toMatchObject([
        { status: 422, expose: true, type: 'entity.validation.failed' },
        { status: 415, expose: true, type: 'content.type.unsupported' },
      ])
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })

  it('closes, never drains, a connection refused before its body arrived', async () => {
    const app = new Hono()
    app.use(safeBody({ routes: { 'POST /n': { schema: true, limit: '1kb', timeout: 300 } } }))
    app.post('/n', (c) => c.json({}))
    const { baseUrl, close } = await serve(app)
    try {
      const head = await untilClosed(
        Number(new URL(baseUrl).port),
        'POST /n HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 20\r\n\r\n{"a"',
      )
      expect(head).toMatch(/^HTTP\/1\.1 408 /)
      expect(head.toLowerCase()).toContain('connection: close')
    } finally {
      close()
    }
  })

  it('reads the body of a GET request, which the Fetch API leaves out, from Node', async () => {
    const search = { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] }
    const app = new Hono()
    app.use(safeBody({ routes: { 'GET /search': search } }))
    app.get('/search', (c) => c.json({ body: validBody(c) ?? null }))
    app.get('/other', (c) => c.json({}))
    const { baseUrl, close } = await serve(app)
    const port = Number(new URL(baseUrl).port)
    const get = async (path: string, body: string) => {
      const head = `GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n`
      const typed =
        body === '' ? '' : `content-type: application/json\r\ncontent-length: ${body.length}\r\n`
      return untilClosed(port, `${head}${typed}\r\n${body}`)
    }
    try {
      const ok = await get('/search', '{"q":"a"}')
      expect(ok).toMatch(/^HTTP\/1\.1 200 /)
      expect(ok).toContain('{"body":{"q":"a"}}')
      const bad = await get('/search', '{"x":1}')
      expect(bad).toMatch(/^HTTP\/1\.1 422 /)
      expect(bad).toContain('"type":"entity.validation.failed"')
      const polluted = await get('/search', '{"__proto__":{"polluted":1},"q":"a"}')
      expect(polluted).toMatch(/^HTTP\/1\.1 400 /)
      expect(polluted).toContain('"type":"entity.forbidden.key"')
      const unbound = await get('/other', '{"q":"a"}')
      expect(unbound).toMatch(/^HTTP\/1\.1 415 /)
      expect(unbound).toContain('"type":"route.schema.missing"')
      expect(await get('/search', '')).toContain('{"body":null}')
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })

  it('reads a body sent without Content-Length (app.request, a stream, HTTP/2) as any other', async () => {
    const role = {
      type: 'object',
      properties: { role: { const: 'user' } },
      required: ['role'],
    } as const
    const app = new Hono()
    const lengths = new Set<string | undefined>()
    app.use(async (c, next) => {
      lengths.add(c.req.header('content-length'))
      await next()
    })
    // A global binding does not require a body: one it did not see would reach the handler.
    app.use('/global', safeBody({ routes: { 'POST /global': role } }))
    app.post('/global', (c) => c.json({ body: validBody(c) ?? null }))
    app.post('/route', safeBody().route(role), (c) => c.json({ body: c.req.valid('json') }))
    const send = (
      path: string,
      body: string | ReadableStream<Uint8Array> | null,
      type = 'application/json',
    ) =>
      app.request(path, {
        method: 'POST',
        headers: type === '' ? {} : { 'content-type': type },
        body,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      })
    const stream = (text: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text))
          controller.close()
        },
      })
    for (const path of ['/global', '/route']) {
      for (const body of [(t: string) => t, stream]) {
        const ok = await send(path, body('{"role":"user"}'))
        expect(ok.status).toBe(200)
        expect(await ok.json()).toEqual({ body: { role: 'user' } })
        const admin = await send(path, body('{"role":"admin"}'))
        expect(admin.status).toBe(422)
        expect(await typeOf(admin)).toBe('entity.validation.failed')
        const polluted = await send(path, body('{"__proto__":{"polluted":1},"role":"user"}'))
        expect(polluted.status).toBe(400)
        expect(await typeOf(polluted)).toBe('entity.forbidden.key')
      }
    }
    expect([...lengths]).toEqual([undefined])
    // No body at all: the global binding lets it by; the per-route one requires one.
    expect(await (await send('/global', null, '')).json()).toEqual({ body: null })
    const missing = await send('/route', null, '')
    expect(missing.status).toBe(400)
    expect(await typeOf(missing)).toBe('entity.missing')
    expectPrototypesUntouched()
  })

  it('holds a request to the binding of the handler Hono routes it to, however the path is spelt', async () => {
    const app = new Hono()
    app.use(safeBody({ routes: { 'POST /users': contractUser } }))
    app.post('/users', (c) => c.json({ body: validBody(c) ?? null }))
    const { baseUrl, close } = await serve(app)
    const port = Number(new URL(baseUrl).port)
    const send = (target: string, body: string) =>
      untilClosed(
        port,
        `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      )
    try {
      for (const target of ['/%75sers', '/./users', '/x/../users', '/x/../%75sers']) {
        const ok = await send(target, '{"name":"a","email":"a@b"}')
        expect(ok, target).toMatch(/^HTTP\/1\.1 200 /)
        const invalid = await send(target, '{"name":"a"}')
        expect(invalid, target).toMatch(/^HTTP\/1\.1 422 /)
        expect(invalid, target).toContain('"type":"entity.validation.failed"')
        const polluted = await send(target, '{"__proto__":{"polluted":1},"name":"a"}')
        expect(polluted, target).toMatch(/^HTTP\/1\.1 400 /)
        expect(polluted, target).toContain('"type":"entity.forbidden.key"')
      }
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })

  it.each([
    ['new Hono()', true],
    ['new Hono({ strict: false })', false],
  ])(
    'compares paths as %s routes them: case-sensitive, trailing slashes as its strict says',
    async (_name, strict) => {
      // Without strict, Hono drops the trailing slash from c.req.path itself.
      const app = new Hono({ strict })
      app.use(
        safeBody({
          routes: splitKeys,
        }),
      )
      const ran: string[] = []
      const handle = (name: string) => (c: Context) => {
        ran.push(name)
        return c.json({ ok: true })
      }
      app.post('/users/me', handle('me'))
      app.post('/users/:id', handle('id'))
      app.post('/admin', handle('admin'))
      // Unbound: a body that reaches them is refused.
      app.post('/:page', handle('page'))
      app.post('/users/*', handle('users/*'))
      const { baseUrl, close } = await serve(app)
      try {
        await expectBindings(
          [
            ['/users/me', 'me', 200, 'me'],
            // Hono runs the `:id` handler for `ME`: held to the `:id` binding, not `me`'s.
            ['/users/ME', 'id', 200, 'id'],
            ['/users/ME', 'me', 422, ''],
            ['/admin', 'admin', 200, 'admin'],
            // Hono runs `/:page`, which has no binding.
            ['/ADMIN', 'admin', 415, ''],
            ['/admin/', 'admin', strict ? 415 : 200, strict ? '' : 'admin'],
            ['/users/me/', 'me', strict ? 415 : 200, strict ? '' : 'me'],
          ],
          ran,
          async (path, body) => {
            const res = await post(baseUrl, path, body)
            return { status: res.status, type: () => typeOf(res) }
          },
        )
      } finally {
        close()
      }
    },
  )

  it("reads the Request a middleware dispatches (Hono's methodOverride), not Node's", async () => {
    const app = new Hono()
    app.use(methodOverride({ app }))
    app.use(
      safeBody({
        routes: {
          'PUT /posts': {
            schema: { type: 'object', required: ['title'] },
            formats: ['urlencoded'],
          },
        },
      }),
    )
    app.put('/posts', (c) => c.json({ body: validBody(c) ?? null }))
    const { baseUrl, close } = await serve(app)
    const form = (body: string) =>
      fetch(`${baseUrl}/posts`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      })
    try {
      // methodOverride drops `_method` from the body it hands on: shorter than Node's
      // Content-Length, which belongs to the request as sent.
      const ok = await form('title=hi&_method=PUT')
      expect(ok.status).toBe(200)
      expect(await ok.json()).toEqual({ body: { title: 'hi' } })
      const invalid = await form('name=hi&_method=PUT')
      expect(invalid.status).toBe(422)
      expect(await typeOf(invalid)).toBe('entity.validation.failed')
      const polluted = await form('__proto__[polluted]=1&title=hi&_method=PUT')
      expect(polluted.status).toBe(400)
      expect(await typeOf(polluted)).toBe('entity.forbidden.key')
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })

  it("never reads Node's body for a Request made anew (app.mount(), an internal app.fetch())", async () => {
    const app = new Hono()
    app.use('/api/*', safeBody({ routes: { 'GET /api/items': { type: 'object' } } }))
    app.get('/api/items', (c) => c.json({ body: validBody(c) ?? null }))
    // A page outside safebody asks the API for itself: a GET with no body of its own.
    app.get('/page', (c) =>
      app.fetch(new Request(new URL('/api/items', c.req.url)), c.env as object),
    )
    const inner = new Hono()
    inner.use(safeBody({ routes: { 'GET /g': { type: 'object' } } }))
    inner.get('/g', (c) => c.json({ body: validBody(c) ?? null }))
    app.mount('/inner', inner.fetch)
    const { baseUrl, close } = await serve(app)
    const port = Number(new URL(baseUrl).port)
    const get = (path: string, body: string) =>
      untilClosed(
        port,
        `GET ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      )
    try {
      // The client's body belongs to /page, never to the API's own request.
      const page = await get('/page', '{"role":"admin"}')
      expect(page).toMatch(/^HTTP\/1\.1 200 /)
      expect(page).toContain('{"body":null}')
      // The Fetch API gives a GET Request no body: the one its Content-Length declares never
      // arrives.
      const mounted = await get('/inner/g', '{"a":1}')
      expect(mounted).toMatch(/^HTTP\/1\.1 400 /)
      expect(mounted).toContain('"type":"request.size.invalid"')
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })

  it("leaves the bytes it read to Hono's own readers (json, text, parseBody, validator)", async () => {
    const app = new Hono()
    app.use(
      safeBody({
        routes: {
          'POST /json': { type: 'object' },
          'POST /text': { type: 'object' },
          'POST /validator': { type: 'object' },
          'POST /form': { type: 'object' },
          'POST /bytes': { type: 'object' },
        },
        formats: ['json', 'urlencoded'],
      }),
    )
    app.post('/json', async (c) => c.json({ read: await c.req.json(), valid: validBody(c) }))
    app.post('/text', async (c) => c.text(await c.req.text()))
    app.post(
      '/validator',
      validator('json', (value) => ({ seen: value })),
      (c) => c.json(c.req.valid('json')),
    )
    app.post('/form', async (c) => c.json(await c.req.parseBody()))
    app.post('/bytes', async (c) => c.json({ length: (await c.req.arrayBuffer()).byteLength }))
    const json = { 'content-type': 'application/json' }
    const post = (path: string, init: RequestInit) =>
      app.request(path, { method: 'POST', ...init, headers: { ...json, ...init.headers } })
    const read = await post('/json', { body: '{"name":"ok"}' })
    expect(await read.json()).toEqual({ read: { name: 'ok' }, valid: { name: 'ok' } })
    // Not a compressed body's: its inflated bytes would not match its headers (a server fault
    // in the handler, as before).
    const gzip = await post('/text', {
      body: gzipSync('{"name":"zipped"}'),
      headers: { 'content-encoding': 'gzip' },
    })
    expect(gzip.status).toBe(500)
    // From a body that came in chunks.
    const parts = ['{"name":', '"in ', 'parts"}'].map((part) => new TextEncoder().encode(part))
    const chunked = await post('/json', {
      body: new ReadableStream({
        pull(controller) {
          const part = parts.shift()
          if (part === undefined) controller.close()
          else controller.enqueue(part)
        },
      }),
      duplex: 'half',
    } as RequestInit)
    expect(await chunked.json()).toEqual({
      read: { name: 'in parts' },
      valid: { name: 'in parts' },
    })
    const checked = await post('/validator', { body: '{"name":"v"}' })
    expect(await checked.json()).toEqual({ seen: { name: 'v' } })
    const form = await post('/form', {
      body: 'name=f',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(await form.json()).toEqual({ name: 'f' })
    expect(await (await post('/bytes', { body: '{"a":1}' })).json()).toEqual({ length: 7 })
    // What safebody refuses never reaches them.
    const polluted = await post('/json', { body: '{"__proto__":{"x":1}}' })
    expect(polluted.status).toBe(400)
    expect(await polluted.json()).toMatchObject({ type: 'entity.forbidden.key' })
    expectPrototypesUntouched()
  })

  it('answers a body another reader spent first with a 500 that shows the client nothing', async () => {
    const app = new Hono()
    const ran: unknown[] = []
    app.use(async (c, next) => {
      await c.req.raw.text()
      await next()
    })
    app.use(safeBody({ 'POST /x': { type: 'object' } }))
    app.post('/x', (c) => {
      ran.push(validBody(c))
      return c.json({})
    })
    const res = await app.request('/x', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    })
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('Internal Server Error')
    expect(ran).toEqual([])
    expectPrototypesUntouched()
  })

  it('matches keys relative to the base path of the Hono app it is registered in', async () => {
    const strict = {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name: { type: 'string' } },
    } as const
    const echo = (c: Context) => c.json({ body: validBody(c) ?? null })
    // A sub-app's keys are written as its routes are: relative to where it is mounted.
    const users = new Hono()
    users.use(safeBody({ routes: { 'POST /': strict, 'POST /:id': { type: 'object' } } }))
    users.post('/', echo)
    users.post('/:id', echo)
    const orgs = new Hono()
    orgs.use(safeBody({ routes: { 'POST /members': strict } }))
    orgs.post('/members', echo)
    // A sub-app whose keys spell the whole path binds nothing: refused, never loosely matched.
    const whole = new Hono()
    whole.use(safeBody({ routes: { 'POST /whole/:id': { type: 'object' } } }))
    whole.post('/:id', echo)
    // A base whose parameter has a pattern of its own may span segments: nothing is bound.
    const files = new Hono()
    files.use(safeBody({ routes: { 'POST /meta': { type: 'object' } } }))
    files.post('/meta', echo)
    const v1 = new Hono().basePath('/v1')
    v1.use(safeBody({ routes: { 'POST /items': strict } }))
    v1.post('/items', echo)
    const app = new Hono()
    app.route('/users', users)
    app.route('/orgs/:org', orgs)
    app.route('/whole', whole)
    app.route('/', v1)
    app.route('/files/:name{[a-z/]+}', files)
    // Nested: the base is the whole mount path, /api/people.
    const people = new Hono()
    people.use(safeBody({ routes: { 'POST /': strict, 'POST /:id': { type: 'object' } } }))
    people.post('/', echo)
    people.post('/:id', echo)
    const api = new Hono()
    api.route('/people', people)
    app.route('/api', api)
    const post = (path: string, body: string) =>
      app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    // The create route is held to its own schema, not to the update route's pattern.
    const admin = await post('/users', '{"role":"admin"}')
    expect(admin.status).toBe(422)
    expect(await admin.json()).toMatchObject({ type: 'entity.validation.failed' })
    expect(await (await post('/users', '{"name":"a"}')).json()).toEqual({ body: { name: 'a' } })
    expect(await (await post('/users/7', '{"role":"x"}')).json()).toEqual({ body: { role: 'x' } })
    const member = await post('/orgs/acme/members', '{"role":"admin"}')
    expect(member.status).toBe(422)
    expect((await post('/orgs/acme/members', '{"name":"a"}')).status).toBe(200)
    const unbound = await post('/whole/7', '{}')
    expect(unbound.status).toBe(415)
    expect(await unbound.json()).toMatchObject({ type: 'route.schema.missing' })
    expect((await post('/v1/items', '{"role":"admin"}')).status).toBe(422)
    expect((await post('/v1/items', '{"name":"a"}')).status).toBe(200)
    expect((await post('/api/people', '{"role":"admin"}')).status).toBe(422)
    expect((await post('/api/people/7', '{"role":"x"}')).status).toBe(200)
    const spanned = await post('/files/a/b/meta', '{}')
    expect(spanned.status).toBe(415)
    expect(await spanned.json()).toMatchObject({ type: 'route.schema.missing' })
    expectPrototypesUntouched()
  })

  it("leaves the outer request's connection alone when it refuses a Request made anew", async () => {
    const app = new Hono()
    app.use('/api/*', safeBody({ routes: { 'POST /api/check': { type: 'object' } } }))
    app.post('/api/check', (c) => c.json({ body: validBody(c) ?? null }))
    // An upload handler outside safebody asks its own API first (an internal app.fetch with
    // c.env), whose refusal must not close the upload's connection, then reads its upload.
    app.post('/upload', async (c) => {
      const check = await app.fetch(
        new Request(new URL('/api/check', c.req.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{not json',
        }),
        c.env as object,
      )
      const problem = (await check.json()) as { type: string }
      const own = await c.req.text()
      return c.text(`check ${check.status} ${problem.type}; upload ${own}`)
    })
    const { baseUrl, close } = await serve(app)
    const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1')
    try {
      let answer = ''
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
      // Half the upload now, the rest once the inner request has been refused.
      socket.write(
        'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n' +
          'Content-Length: 20\r\nConnection: close\r\n\r\n0123456789',
      )
      await new Promise((resolve) => setTimeout(resolve, 200))
      socket.write('abcdefghij')
      await new Promise((resolve) => socket.once('close', resolve))
      expect(answer).toMatch(/^HTTP\/1\.1 200 /)
      expect(answer).toContain('check 400 entity.parse.failed; upload 0123456789abcdefghij')
      expectPrototypesUntouched()
    } finally {
      socket.destroy()
      close()
    }
  })

  describe('two Content-Type lines', () => {
    const secret = 'two-lines'
    const body = '{"name":"a"}'
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
    function build() {
      const { events, onViolation } = eventRecorder()
      const app = new Hono()
      app.use(
        safeBody({
          routes: {
            'POST /watched': { schema: { type: 'object' }, mode: 'report' },
            'POST /signed': {
              schema: { type: 'object' },
              mode: 'report',
              integrity: { preset: 'github', secret },
            },
            'POST /enforced': { type: 'object' },
          },
          onViolation,
        }),
      )
      for (const path of ['/watched', '/signed', '/enforced']) {
        app.post(path, async (c) => {
          const value = validBody(c)
          // Left unread, the body is still the handler's to read.
          return c.json(value === undefined ? { unread: await c.req.text() } : { body: value })
        })
      }
      return { app, events }
    }

    it('on @hono/node-server: reported, the body decoded by the first line', async () => {
      const { app, events } = build()
      const { baseUrl, close } = await serve(app)
      const port = Number(new URL(baseUrl).port)
      const send = (path: string, more = '') =>
        untilClosed(
          port,
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `Content-Type: text/plain\r\n${more}Content-Length: ${body.length}\r\n` +
            `Connection: close\r\n\r\n${body}`,
        )
      try {
        const watched = await send('/watched')
        expect(watched).toMatch(/^HTTP\/1\.1 200 /)
        expect(watched).toContain('{"body":{"name":"a"}}')
        const signed = await send('/signed', `X-Hub-Signature-256: ${signature}\r\n`)
        expect(signed).toMatch(/^HTTP\/1\.1 200 /)
        expect(signed).toContain('{"body":{"name":"a"}}')
        const enforced = await send('/enforced')
        expect(enforced).toMatch(/^HTTP\/1\.1 415 /)
        expect(enforced).toContain('"type":"content.type.unsupported"')
        await tick()
        expect(events).toMatchObject([
          { action: 'reported', type: 'content.type.unsupported', route: 'POST /watched' },
          { action: 'reported', type: 'content.type.unsupported', route: 'POST /signed' },
          { action: 'refused', type: 'content.type.unsupported', route: 'POST /enforced' },
        ])
        expectPrototypesUntouched()
      } finally {
        close()
      }
    })

    // Without Node's request (app.request, Workers, Bun, Deno), fetch's Headers join the two
    // lines into one value that names no format: the first line cannot be told apart.
    it('on a Web Request (joined by Headers): reported and left unread, or refused', async () => {
      const { app, events } = build()
      const send = (path: string, extra: Record<string, string> = {}) => {
        const headers = new Headers(extra)
        headers.append('content-type', 'application/json')
        headers.append('content-type', 'text/plain')
        return app.request(path, { method: 'POST', headers, body })
      }
      const watched = await send('/watched')
      expect(watched.status).toBe(200)
      expect(await watched.json()).toEqual({ unread: body })
      // A signed route cannot verify a body it leaves unread: refused even in report mode.
      const signed = await send('/signed', { 'x-hub-signature-256': signature })
      expect(signed.status).toBe(415)
      expect(await typeOf(signed)).toBe('content.type.unsupported')
      const enforced = await send('/enforced')
      expect(enforced.status).toBe(415)
      expect(await typeOf(enforced)).toBe('content.type.unsupported')
      await tick()
      expect(events).toMatchObject([
        { action: 'reported', type: 'content.type.unsupported', route: 'POST /watched' },
        { action: 'refused', type: 'content.type.unsupported', route: 'POST /signed' },
        { action: 'refused', type: 'content.type.unsupported', route: 'POST /enforced' },
      ])
      expectPrototypesUntouched()
    })
  })

  it('reads an HTTP/2 body without Content-Length on @hono/node-server', async () => {
    const app = new Hono()
    app.use(safeBody({ routes: { 'POST /users': contractUser } }))
    app.post('/users', (c) => c.json({ body: validBody(c) ?? null }))
    const server = await new Promise<ReturnType<typeof serveNode>>((resolve) => {
      const s = serveNode(
        { fetch: app.fetch, port: 0, hostname: '127.0.0.1', createServer: createHttp2Server },
        () => resolve(s),
      )
    })
    const port = (server.address() as AddressInfo).port
    try {
      const ok = await http2Post(port, '/users', '{"name":"a","email":"a@b"}')
      expect(ok.status).toBe(200)
      expect(JSON.parse(ok.body)).toEqual({ body: { name: 'a', email: 'a@b' } })
      const invalid = await http2Post(port, '/users', '{"name":"a"}')
      expect(invalid.status).toBe(422)
      expect(JSON.parse(invalid.body).type).toBe('entity.validation.failed')
      const polluted = await http2Post(port, '/users', '{"__proto__":{"polluted":1},"name":"a"}')
      expect(polluted.status).toBe(400)
      expect(JSON.parse(polluted.body).type).toBe('entity.forbidden.key')
      const none = await http2Post(port, '/users', null)
      expect(JSON.parse(none.body)).toEqual({ body: null })
      expectPrototypesUntouched()
    } finally {
      server.close()
    }
  })

  it('a per-route instance after a global one takes the body once, held to both', async () => {
    const app = new Hono()
    app.use(safeBody({ 'POST /users': contractUser, 'POST /limited': { type: 'object' } }))
    app.post('/users', safeBody().route(contractUserStrict), (c) =>
      c.json({ body: c.req.valid('json') }),
    )
    app.post('/limited', safeBody().route(contractLimited), (c) =>
      c.json({ body: c.req.valid('json') }),
    )
    const { baseUrl, close } = await serve(app)
    try {
      await expectHeldToBoth(baseUrl)
    } finally {
      close()
    }
  })
})
