import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { buildApp, frameworks, sendBytes } from '../helpers/app.js'

const user = {
  type: 'object',
  properties: { name: { type: 'string' } },
  required: ['name'],
} as const

describe.each(frameworks)('middleware.stats() through %s', (_name, express) => {
  const body = safeBody({
    mode: 'report',
    schemas: { user },
    routes: { 'POST /users': 'user', 'POST /strict': { schema: 'user', mode: 'enforce' } },
  })
  const { app } = buildApp(express, (app, echo) => {
    app.use(body)
    app.post('/users', echo)
    app.post('/strict', echo)
    app.post('/hooks', body.route({ schema: 'user', mode: 'enforce' }), echo)
    app.post('/unbound', echo)
  })
  const json = (path: string, text: string) => sendBytes(request(app).post(path).type('json'), text)

  it('counts by route, format, type and action', async () => {
    expect(body.stats()).toEqual({ refused: 0, reported: 0, counters: [] })
    await json('/users', '{}')
    await json('/users', '{"name":1}')
    await json('/users', '{')
    await json('/strict', '{}')
    await json('/unbound', '{"a":1}')
    await request(app).post('/users').type('text/csv').send('hi')
    // The global instance, with no binding for /hooks, reports and takes the body first; the
    // per-route binding after it holds it to its schema, in its own (enforce) mode.
    await json('/hooks', '{}')
    const stats = body.stats()
    expect(stats.reported).toBe(5)
    expect(stats.refused).toBe(3)
    const byKey = Object.fromEntries(
      stats.counters.map((c) => [`${c.action} ${c.route} ${c.format} ${c.type}`, c.count]),
    )
    expect(byKey).toEqual({
      'reported POST /users json entity.validation.failed': 2,
      'refused POST /users json entity.parse.failed': 1,
      'refused POST /strict json entity.validation.failed': 1,
      'reported unbound none route.schema.missing': 2,
      'reported POST /users none content.type.unsupported': 1,
      'refused POST /hooks json entity.validation.failed': 1,
    })
  })

  it('hands out a snapshot, not live state', () => {
    const first = body.stats()
    first.counters.length = 0
    ;(first as { refused: number }).refused = 99
    const second = body.stats()
    expect(second.refused).not.toBe(99)
    expect(second.counters.length).toBeGreaterThan(0)
  })

  it('does not grow with client-controlled values', async () => {
    const before = body.stats().counters.length
    for (let i = 0; i < 40; i++) {
      await request(app).post(`/unbound/${i}`).type(`application/x-made-up-${i}`).send('x')
      await request(app).post('/users').type(`application/x-made-up-${i}`).send('x')
    }
    const after = body.stats()
    expect(after.counters.length - before).toBe(0)
    expect(after.reported).toBeGreaterThanOrEqual(80)
  })
})
