import { AsyncLocalStorage } from 'node:async_hooks'
import type { ErrorRequestHandler, Express, RequestHandler } from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { json } from '../../src/body-parser/index.js'
import { safeBody } from '../../src/index.js'
import { anything } from '../fixtures/schemas.js'
import { frameworks, sendBytes } from '../helpers/app.js'

// An AsyncLocalStorage store set before the body middleware (a tracing span, a request id)
// must reach the handler and the error handler after it, as it does with body-parser, whose
// raw-body calls back in the middleware's async context.
const storage = new AsyncLocalStorage<string>()

function appWith(express: (typeof frameworks)[number][1], parser: RequestHandler): Express {
  const app = express() as Express
  app.use((req, _res, next) => storage.run(`request ${req.headers['x-id']}`, next))
  app.use(parser)
  app.all('/', (_req, res) => {
    res.json({ store: storage.getStore() ?? null })
  })
  app.use(((err, _req, res, _next) => {
    res.status((err as { status?: number }).status ?? 500).json({
      store: storage.getStore() ?? null,
    })
  }) as ErrorRequestHandler)
  return app
}

const bodies = {
  small: JSON.stringify({ a: 1 }),
  // Read in several chunks, after the middleware returned.
  large: JSON.stringify({ a: 'x'.repeat(300_000) }),
  malformed: `{"a":"${'x'.repeat(300_000)}"`,
}

describe.each(frameworks)('the async context through %s', (_name, express) => {
  const parsers: Array<[string, RequestHandler]> = [
    ['safeBody()', safeBody({ routes: { 'POST /': anything, 'GET /': anything }, limit: '1mb' })],
    ['safebody/body-parser json()', json({ limit: '1mb' }) as RequestHandler],
  ]
  describe.each(parsers)('%s', (_parser, parser) => {
    const app = appWith(express, parser)
    it.each(Object.entries(bodies))('reaches the handler after a %s body', async (what, body) => {
      const res = await sendBytes(request(app).post('/').type('json').set('x-id', what), body)
      expect(res.status).toBe(what === 'malformed' ? 400 : 200)
      expect(res.body).toEqual({ store: `request ${what}` })
    })

    it('reaches it after a request without a body', async () => {
      const res = await request(app).get('/').set('x-id', 'none')
      expect(res.body).toEqual({ store: 'request none' })
    })
  })
})
