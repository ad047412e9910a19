import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import Koa from 'koa'
import { describe, expect, it, vi } from 'vitest'
import { problemDetails, safeBody, validBody } from '../../src/koa.js'
import { expectPrototypesUntouched, untilClosed } from '../helpers/app.js'
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
  expectBodilessBehindParser,
  parserFirstRoutes,
  expectServerFault,
  expectHeldToBoth,
  served,
} from './contract.js'

const serve = (app: Koa) => served(app.listen(0, '127.0.0.1'))

describeContract('koa', async () => {
  const app = new Koa()
  app.use(problemDetails())
  app.use(safeBody(contractOptions()))
  const router = new Router()
  for (const path of contractPaths) {
    router.post(path, (ctx) => {
      ctx.body = { body: validBody(ctx) }
    })
  }
  router.get(contractGetPath, (ctx) => {
    ctx.body = { body: validBody(ctx) }
  })
  app.use(router.routes())
  return serve(app)
})

const post = (baseUrl: string, path: string, body: string, type = 'application/json') =>
  fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': type }, body })

describe('safebody/koa', () => {
  it('answers a schema that throws nothing with a 500; the handler never runs', async () => {
    const app = new Koa()
    app.silent = true
    const ran: unknown[] = []
    app.use(safeBody({ 'POST /x': throwsNothing }))
    app.use((ctx) => {
      ran.push(validBody(ctx))
      ctx.body = 'handed on'
    })
    const { baseUrl, close } = await serve(app)
    await expectServerFault(baseUrl, ran, close)
  })

  it.each([false, true])(
    'hands on an output that is a thenable as it is (async: %s)',
    async (async) => {
      const { schema, seen, expectHandedOn } = thenableOutput(async)
      const app = new Koa()
      app.use(safeBody({ 'POST /x': schema }))
      app.use((ctx) => {
        seen.push(validBody(ctx))
        ctx.body = 'handed on'
      })
      const { baseUrl, close } = await serve(app)
      await expectHandedOn(baseUrl, close)
    },
  )

  it('sets ctx.request.body on a per-route middleware with @koa/router', async () => {
    const bodies = safeBody()
    const router = new Router()
    router.post('/users', bodies.route(contractUser), (ctx) => {
      const name: string = ctx.request.body.name
      ctx.body = { name }
    })
    const app = new Koa()
    const emitted: unknown[] = []
    app.on('error', (err: unknown) => emitted.push(err))
    app.use(problemDetails())
    app.use(router.routes())
    const { baseUrl, close } = await serve(app)
    try {
      const ok = await post(baseUrl, '/users', '{"name":"Ada","email":"ada@example.com"}')
      expect(ok.status).toBe(200)
      expect(await ok.json()).toEqual({ name: 'Ada' })
      const bad = await post(baseUrl, '/users', '{"name":"Ada"}')
      expect(bad.status).toBe(422)
      expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(((await bad.json()) as { type: string }).type).toBe('entity.validation.failed')
      const polluted = await post(baseUrl, '/users', '{"__proto__":{"x":1},"name":"A"}')
      expect(polluted.status).toBe(400)
      expect(((await polluted.json()) as { type: string }).type).toBe('entity.forbidden.key')
      // problemDetails() answered them: nothing reaches the application's error event.
      expect(emitted).toEqual([])
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })

  it("throws http errors that Koa's default handler answers and does not log", async () => {
    const app = new Koa()
    // Koa's own error listener logs what it does not expose: a refusal must not be logged.
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const seen: unknown[] = []
    app.use(async (ctx, next) => {
      try {
        await next()
      } catch (err) {
        seen.push(err)
        throw err
      }
    })
    app.use(safeBody({ 'POST /n': { type: 'object', required: ['a'] } }))
    app.use((ctx) => {
      ctx.body = { body: (ctx.request as { body?: unknown }).body }
    })
    const { baseUrl, close } = await serve(app)
    try {
      const ok = await post(baseUrl, '/n?x=1', '{"a":1}')
      expect(await ok.json()).toEqual({ body: { a: 1 } })
      const bad = await post(baseUrl, '/n', '{"b":1}')
      expect(bad.status).toBe(422)
      expect(await bad.text()).toBe('Body does not match the schema')
      const csv = await post(baseUrl, '/n', 'a,b', 'text/csv')
      expect(csv.status).toBe(415)
      expect(seen).toMatchObject([
        { status: 422, expose: true, type: 'entity.validation.failed' },
        { status: 415, expose: true, type: 'content.type.unsupported' },
      ])
      expect(logged).not.toHaveBeenCalled()
      expectPrototypesUntouched()
    } finally {
      logged.mockRestore()
      close()
    }
  })

  it('closes, never drains, a connection refused before its body arrived', async () => {
    const app = new Koa()
    app.use(safeBody({ routes: { 'POST /n': { schema: true, limit: '1kb' } } }))
    const { baseUrl, close } = await serve(app)
    try {
      const head = await untilClosed(
        Number(new URL(baseUrl).port),
        'POST /n HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n',
      )
      expect(head).toMatch(/^HTTP\/1\.1 413 /)
      expect(head.toLowerCase()).toContain('connection: close')
    } finally {
      close()
    }
  })

  it('a per-route instance after a global one takes the body once, held to both', async () => {
    const app = new Koa()
    app.use(problemDetails())
    app.use(safeBody({ 'POST /users': contractUser, 'POST /limited': { type: 'object' } }))
    const router = new Router()
    router.post('/users', safeBody().route(contractUserStrict), (ctx) => {
      ctx.body = { body: ctx.request.body }
    })
    router.post('/limited', safeBody().route(contractLimited), (ctx) => {
      ctx.body = { body: ctx.request.body }
    })
    app.use(router.routes())
    const { baseUrl, close } = await serve(app)
    try {
      await expectHeldToBoth(baseUrl)
    } finally {
      close()
    }
  })

  it('a body parser after safebody leaves a body alone whose validated value is undefined', async () => {
    const dropAll = {
      '~standard': { version: 1, vendor: 'test', validate: () => ({ value: undefined }) },
    } as const
    const app = new Koa()
    app.use(problemDetails())
    app.use(safeBody({ 'POST /ping': dropAll }))
    app.use(bodyParser())
    app.use((ctx) => {
      ctx.body = { ran: true, body: ctx.request.body ?? null }
    })
    const { baseUrl, close } = await serve(app)
    try {
      const res = await fetch(`${baseUrl}/ping`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      })
      expect([res.status, await res.json()]).toEqual([200, { ran: true, body: null }])
      expectPrototypesUntouched()
    } finally {
      close()
    }
  })

  // @koa/bodyparser behind a global instance: the global one takes a bodiless request on its
  // bindings, so the parser makes nothing of it. A per-route instance after a parser that read
  // one (setting `{}`) lost nothing to check.
  it('a per-route instance after @koa/bodyparser takes a bodiless request as bodiless, not a 500', async () => {
    const echo = (ctx: Koa.Context) => {
      ctx.body = { body: ctx.request.body ?? null }
    }
    const behindGlobal = new Koa()
    behindGlobal.use(problemDetails())
    behindGlobal.use(
      safeBody({
        'POST /users': contractUser,
        'POST /required': contractUser,
        'POST /global': contractUser,
      }),
    )
    behindGlobal.use(bodyParser())
    const router = new Router()
    router.post('/global', echo)
    router.post('/users', safeBody().route({ schema: contractUserStrict, required: false }), echo)
    router.post('/required', safeBody().route(contractUserStrict), echo)
    behindGlobal.use(router.routes())
    // @koa/bodyparser before any instance reads a body first: that one is lost.
    const alone = new Koa()
    alone.silent = true
    alone.use(problemDetails())
    alone.use(bodyParser())
    alone.use(safeBody(parserFirstRoutes))
    const late = new Router()
    for (const path of ['/users', '/watched', '/open']) late.post(path, echo)
    alone.use(late.routes())
    const servers = [await serve(behindGlobal), await serve(alone)]
    const [first, second] = servers.map(({ baseUrl }) => baseUrl) as [string, string]
    try {
      await expectBodilessBehindParser(first, second)
    } finally {
      for (const { close } of servers) close()
    }
  })
})
