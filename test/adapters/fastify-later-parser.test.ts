import { createHmac } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import type { SafeBodyOptions } from '../../src/index.js'
import safebody, { problemDetails } from '../../src/fastify.js'
import { expectPrototypesUntouched, point } from '../helpers/app.js'
import { eventRecorder, tick } from '../helpers/violations.js'

// A content-type parser the app registers after the plugin takes its types over: on a route a
// binding holds, the body it made is refused as a type outside the route's formats (report
// mode reports it), as the middleware elsewhere refuses such a type before a later parser sees
// it; a route no binding holds keeps it.
describe('safebody/fastify and a parser registered after it', () => {
  const secret = 'webhook-secret'
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const json = { 'content-type': 'application/json' }

  /** The handlers run, by URL. */
  async function build(
    options: SafeBodyOptions,
    after: (app: FastifyInstance) => PromiseLike<unknown> | void,
  ) {
    const ran: string[] = []
    const app = Fastify()
    await app.register(safebody, options)
    await after(app)
    app.setErrorHandler(problemDetails())
    const handler = async (request: { url: string; body: unknown }) => {
      ran.push(request.url)
      return { body: request.body ?? null }
    }
    app.post('/keyed', handler)
    app.post('/hooks', handler)
    app.post('/own', { schema: { body: point } }, handler)
    app.post(
      '/optional',
      { schema: { body: point }, config: { safebody: { required: false } } },
      handler,
    )
    app.post('/free', handler)
    await app.ready()
    return { app, ran }
  }

  const options = (extra: SafeBodyOptions = {}): SafeBodyOptions => ({
    ...extra,
    routes: {
      'POST /keyed': point,
      'POST /hooks': { schema: point, integrity: { preset: 'github', secret } },
    },
  })

  const sign = (body: string) => ({
    'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  })

  function expectRefused(
    res: { statusCode: number; json(): unknown },
    status: number,
    type: string,
  ) {
    expect([res.statusCode, (res.json() as { type?: string }).type]).toEqual([status, type])
    expectPrototypesUntouched()
  }

  const post = (app: FastifyInstance, url: string, payload: string, headers: HeaderMap) =>
    app.inject({ method: 'POST', url, payload, headers })
  type HeaderMap = Record<string, string>

  /** POST `payload` to `url`: the handler gets `body`. */
  async function handedOn(
    app: FastifyInstance,
    url: string,
    payload: string,
    headers: HeaderMap,
    body: unknown,
  ) {
    const res = await post(app, url, payload, headers)
    expect([res.statusCode, res.json()]).toEqual([200, { body }])
  }

  it('refuses a form @fastify/formbody parsed on a bound route, and leaves it on a free one', async () => {
    const { app, ran } = await build(options(), (a) => a.register(formbody))
    const payload = '__proto__[polluted]=1&constructor[prototype][polluted]=1&x=1'
    for (const url of ['/keyed', '/own']) {
      const res = await app.inject({ method: 'POST', url, payload, headers: form })
      expectRefused(res, 415, 'content.type.unsupported')
      const { detail } = res.json() as { detail: string }
      expect(detail).toContain('accepts json, msgpack, yaml bodies only')
      expect(detail).toContain('`formats` is [json, msgpack, yaml]')
    }
    // Its own formats still reach safebody.
    await handedOn(app, '/keyed', '{"x":1}', json, { x: 1 })
    // A route no binding holds keeps the other parser's body.
    await handedOn(app, '/free', 'a=1', form, { a: '1' })
    expect(ran).toEqual(['/keyed', '/free'])
    expectPrototypesUntouched()
    await app.close()
  })

  it('holds an empty form on a bound route as no body, not the {} the parser made of it', async () => {
    const { app, ran } = await build(options(), (a) => a.register(formbody))
    const optional = await app.inject({
      method: 'POST',
      url: '/optional',
      payload: '',
      headers: form,
    })
    expect([optional.statusCode, optional.json()]).toEqual([200, { body: null }])
    const required = await app.inject({ method: 'POST', url: '/own', payload: '', headers: form })
    expectRefused(required, 400, 'entity.missing')
    expect(ran).toEqual(['/optional'])
    await app.close()
  })

  it('refuses what a parser that replaces one of its types made (a raw-keeping JSON parser)', async () => {
    const { app, ran } = await build(options(), (a) => {
      a.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, body, done) => {
        done(null, JSON.parse(body as string))
      })
    })
    const payload = '{"x":1,"admin":true,"__proto__":{"polluted":1}}'
    for (const url of ['/keyed', '/own', '/optional']) {
      const res = await app.inject({ method: 'POST', url, payload, headers: json })
      expectRefused(res, 415, 'content.type.unsupported')
    }
    await handedOn(app, '/free', '{"a":1}', json, { a: 1 })
    expect(ran).toEqual(['/free'])
    await app.close()
  })

  it('refuses what a catch-all or pattern parser in place of its own made', async () => {
    const { app, ran } = await build(options(), (a) => {
      a.removeContentTypeParser('*')
      a.addContentTypeParser('*', { parseAs: 'string' }, (_r, body, done) => {
        done(null, { any: body })
      })
      a.addContentTypeParser(
        /^application\/(?:.+\+)?json(?:;|$)/,
        { parseAs: 'string' },
        (_r, body, done) => {
          done(null, { pattern: body })
        },
      )
    })
    const send = (url: string, type: string, payload: string) =>
      app.inject({ method: 'POST', url, payload, headers: { 'content-type': type } })
    for (let i = 0; i < 2; i++) {
      expectRefused(await send('/keyed', 'text/csv', 'x\n1'), 415, 'content.type.unsupported')
      expectRefused(
        await send('/own', 'application/vnd.api+json', '{"x":1}'),
        415,
        'content.type.unsupported',
      )
      await handedOn(app, '/keyed', 'x: 1', { 'content-type': 'application/yaml' }, { x: 1 })
      await handedOn(app, '/free', 'x\n1', { 'content-type': 'text/csv' }, { any: 'x\n1' })
    }
    expect(ran).toEqual(['/keyed', '/free', '/keyed', '/free'])
    await app.close()
  })

  it('refuses it on a signed route, signed or not: a body safebody did not read cannot be verified', async () => {
    const { app, ran } = await build(options(), (a) => a.register(formbody))
    const payload = 'x=1'
    const unsigned = await app.inject({ method: 'POST', url: '/hooks', payload, headers: form })
    expectRefused(unsigned, 401, 'entity.signature.missing')
    const signed = await post(app, '/hooks', payload, { ...form, ...sign(payload) })
    expectRefused(signed, 415, 'content.type.unsupported')
    await handedOn(app, '/hooks', '{"x":1}', { ...json, ...sign('{"x":1}') }, { x: 1 })
    expect(ran).toEqual(['/hooks'])
    await app.close()
  })

  it('reports it in report mode and hands it on, except on a signed route', async () => {
    const { events, onViolation } = eventRecorder()
    const { app, ran } = await build(options({ mode: 'report', onViolation }), (a) =>
      a.register(formbody),
    )
    const payload = 'x=1'
    await handedOn(app, '/keyed', payload, form, { x: '1' })
    await handedOn(app, '/own', payload, form, { x: '1' })
    await tick()
    expect(events.map(({ action, type, route }) => [action, type, route])).toEqual([
      ['reported', 'content.type.unsupported', 'POST /keyed'],
      ['reported', 'content.type.unsupported', 'POST /own'],
    ])
    const signed = await post(app, '/hooks', payload, { ...form, ...sign(payload) })
    expectRefused(signed, 415, 'content.type.unsupported')
    await tick()
    expect(events.at(-1)).toMatchObject({ action: 'refused', route: 'POST /hooks' })
    expect(ran).toEqual(['/keyed', '/own'])
    await app.close()
  })

  it('refuses it on a route a key says takes no body, and everywhere under a global integrity', async () => {
    const openapi = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: { '/none': { post: {} } },
    }
    // Added after the plugin, and before it (which onRoute never saw): found the same way.
    for (const early of [false, true]) {
      const app = Fastify()
      app.setErrorHandler(problemDetails())
      if (early) app.post('/none', async () => ({ ran: true }))
      await app.register(safebody, { openapi })
      if (!early) app.post('/none', async () => ({ ran: true }))
      await app.register(formbody)
      const res = await app.inject({ method: 'POST', url: '/none', payload: 'x=1', headers: form })
      expectRefused(res, 415, 'route.schema.missing')
      await app.close()
    }

    // Every body must be signed: one another parser took cannot be verified.
    const signed = await build({ integrity: { preset: 'github', secret } }, (a) =>
      a.register(formbody),
    )
    const payload = 'x=1'
    const unsigned = await signed.app.inject({
      method: 'POST',
      url: '/free',
      payload,
      headers: form,
    })
    expectRefused(unsigned, 401, 'entity.signature.missing')
    const verified = await signed.app.inject({
      method: 'POST',
      url: '/free',
      payload,
      headers: { ...form, ...sign(payload) },
    })
    expectRefused(verified, 415, 'route.schema.missing')
    expect(signed.ran).toEqual([])
    await signed.app.close()
  })

  it('drops what a later parser made of Content-Length: 00 on a bound route, as of 0', async () => {
    const served = await build(
      { routes: { 'POST /child': { type: 'object', required: ['x'] } } },
      async (a) => {
        await a.register(async (child) => {
          child.removeContentTypeParser('*')
          child.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) =>
            done(null, { fromCatchAll: body }),
          )
          child.post('/child', async (request) => ({ body: request.body ?? null }))
        })
      },
    )
    for (const length of ['0', '00']) {
      const res = await served.app.inject({
        method: 'POST',
        url: '/child',
        headers: { 'content-length': length },
      })
      expect([length, res.statusCode, res.json()]).toEqual([length, 200, { body: null }])
    }
    await served.app.close()
  })
})
