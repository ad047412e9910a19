import createError from 'http-errors'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { problemDetails, safeBody } from '../../src/index.js'
import { person } from '../fixtures/schemas.js'
import { frameworks } from '../helpers/app.js'

describe.each(frameworks)('problemDetails() through %s', (_name, express) => {
  function app(options?: Parameters<typeof problemDetails>[0]) {
    const app = express()
    app.use(safeBody({ 'POST /users': person }))
    app.post('/users', (req, res) => res.json(req.body))
    app.get('/teapot', () => {
      throw createError(418, 'I am short and stout')
    })
    app.get('/leak', () => {
      throw createError(400, 'Unexpected token a in JSON at position 3 "secret"')
    })
    app.get('/crash', () => {
      throw new Error('database password is hunter2')
    })
    app.use(problemDetails(options))
    return app
  }

  it('renders refusals as RFC 9457 application/problem+json, without internals', async () => {
    const res = await request(app())
      .post('/users')
      .set('Content-Type', 'application/json')
      .send('{"name":')
    expect(res.status).toBe(400)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(res.body).toEqual({
      type: 'entity.parse.failed',
      title: 'Malformed body',
      status: 400,
      detail: 'The body is not valid JSON.',
    })
    expect(res.text).not.toMatch(/stack|at position|Unexpected/)
  })

  it('lists validation errors with instancePath, keyword and message only', async () => {
    const res = await request(app()).post('/users').send({ name: 1 })
    expect(res.status).toBe(422)
    expect(res.body.errors).toEqual([
      { instancePath: '/name', keyword: 'type', message: 'must be string' },
    ])
  })

  it('prefixes the type with typeBase when given', async () => {
    const res = await request(app({ typeBase: 'https://errors.example.com/' }))
      .post('/users')
      .send({})
    expect(res.body.type).toBe('https://errors.example.com/entity.validation.failed')
  })

  it('renders foreign 4xx errors by status only, since their message may quote input', async () => {
    const teapot = await request(app()).get('/teapot')
    expect(teapot.status).toBe(418)
    expect(teapot.body).toEqual({ type: 'about:blank', title: "I'm a Teapot", status: 418 })
    const leak = await request(app()).get('/leak')
    expect(leak.text).not.toContain('secret')
  })

  it('passes 5xx errors on to the next handler untouched', async () => {
    const res = await request(app()).get('/crash')
    expect(res.status).toBe(500)
    expect(res.headers['content-type']).not.toMatch(/problem/)
  })
})

it('refuses a typeBase that is not a string', () => {
  expect(() => problemDetails({ typeBase: 1 as never })).toThrow(/typeBase must be a string/)
})
