import { gzipSync } from 'node:zlib'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks } from '../helpers/app.js'

const schemas = {
  form: {
    type: 'object',
    properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
  },
  note: { type: 'string', maxLength: 20 },
  blob: { type: 'string', contentEncoding: 'base64', maxLength: 100 },
}

describe.each(frameworks)('urlencoded, text and raw through safeBody (%s)', (_name, express) => {
  const setup = () =>
    buildApp(express, (app, echo) => {
      app.use(
        safeBody({
          schemas,
          routes: {
            'POST /form': { schema: 'form', formats: ['urlencoded'] },
            'POST /note': { schema: 'note', formats: ['text'] },
            'POST /blob': { schema: 'blob', formats: ['raw'] },
            'POST /any': { schema: true, formats: ['json', 'urlencoded', 'text', 'raw'] },
          },
        }),
      )
      app.post(['/form', '/note', '/blob', '/any'], echo)
    })

  it('parses a form into the data model and validates it', async () => {
    const { app, seen } = setup()
    const res = await request(app).post('/form').type('form').send('name=Ada+L&tags[]=x&tags[]=y')
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([{ name: 'Ada L', tags: ['x', 'y'] }])
  })

  it('validates the form against its schema (422)', async () => {
    const { app, seen } = setup()
    const res = await request(app).post('/form').type('form').send('name[x]=1')
    expectRefusal(res, 422, 'entity.validation.failed', seen)
  })

  it.each([
    'a[__proto__][x]=1',
    '__proto__[x]=1',
    'a[constructor][prototype][x]=1',
    '__proto__=1',
    '%5F%5Fproto%5F%5F[x]=1',
    'a.__proto__=1',
    'name=x&__proto__[admin]=true',
  ])('refuses the form %s with 400 entity.forbidden.key', async (text) => {
    const { app, seen } = setup()
    const res = await request(app).post('/form').type('form').send(text)
    expectRefusal(res, 400, 'entity.forbidden.key', seen)
  })

  it('refuses more than 1000 parameters and depth past 32 with 400', async () => {
    const { app, seen } = setup()
    const many = Array.from({ length: 1001 }, (_, i) => `k${i}=v`).join('&')
    expectRefusal(
      await request(app).post('/form').type('form').send(many),
      400,
      'entity.too.many.keys',
      seen,
    )
    const deep = `a${'[b]'.repeat(33)}=1`
    expectRefusal(
      await request(app).post('/form').type('form').send(deep),
      400,
      'entity.too.deep',
      seen,
    )
  })

  it('refuses a form in another charset with 415', async () => {
    const { app, seen } = setup()
    const res = await request(app)
      .post('/form')
      .set('Content-Type', 'application/x-www-form-urlencoded; charset=iso-8859-1')
      .send('name=x')
    expectRefusal(res, 415, 'charset.unsupported', seen)
  })

  it('gives text/plain as a string, and validates it', async () => {
    const { app, seen } = setup()
    const ok = await request(app).post('/note').type('text/plain').send('hello ✓')
    expect(ok.status).toBe(200)
    expect(seen.bodies).toEqual(['hello ✓'])
    const long = await request(app).post('/note').type('text/plain').send('x'.repeat(21))
    expect(long.status).toBe(422)
  })

  it('gives text with a NUL inside as it is: a NUL is UTF-8 text', async () => {
    const { app, seen } = setup()
    for (const text of ['a\u0000b', 'ab\u0000', '\u0000abc', 'a\u0000bc\u0000d']) {
      seen.bodies.length = 0
      const res = await request(app).post('/note').type('text/plain').send(Buffer.from(text))
      expect(res.status).toBe(200)
      expect(seen.bodies).toEqual([text])
    }
  })

  it('still refuses UTF-16 and UTF-32 text, told by BOM or by the zero bytes at the start: 415', async () => {
    const { app, seen } = setup()
    for (const bytes of [
      Buffer.from('\ufeffhi', 'utf16le'),
      Buffer.from('hi', 'utf16le'),
      Buffer.from('hi', 'utf16le').swap16(),
      Buffer.from([0x68, 0, 0, 0, 0x69, 0, 0, 0]),
      Buffer.from([0, 0, 0, 0x68, 0, 0, 0, 0x69]),
    ]) {
      const res = await request(app).post('/note').type('text/plain').send(bytes)
      expectRefusal(res, 415, 'charset.unsupported', seen)
    }
  })

  it('refuses invalid UTF-8 text with 400', async () => {
    const { app, seen } = setup()
    const res = await request(app)
      .post('/note')
      .type('text/plain')
      .send(Buffer.from([0x68, 0xff, 0x69]))
    expectRefusal(res, 400, 'entity.utf8.invalid', seen)
  })

  it('gives application/octet-stream as base64, any charset parameter ignored', async () => {
    const { app, seen } = setup()
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff])
    const res = await request(app)
      .post('/blob')
      .set('Content-Type', 'application/octet-stream; charset=bogus')
      .send(bytes)
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([bytes.toString('base64')])
  })

  it('inflates gzip before decoding any of the three', async () => {
    const { app, seen } = setup()
    const res = await request(app)
      .post('/form')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Content-Encoding', 'gzip')
      // superagent would serialize a Buffer sent as a form; send the bytes as they are.
      .serialize((bytes: Buffer) => bytes as unknown as string)
      .send(gzipSync('name=zipped'))
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([{ name: 'zipped' }])
  })

  it('picks the decoder by Content-Type on a route that allows several', async () => {
    const { app, seen } = setup()
    await request(app).post('/any').type('form').send('a=1')
    await request(app).post('/any').type('text/plain').send('a=1')
    await request(app).post('/any').type('application/octet-stream').send(Buffer.from('a=1'))
    await request(app).post('/any').type('json').send({ a: 1 })
    expect(seen.bodies).toEqual([{ a: '1' }, 'a=1', 'YT0x', { a: 1 }])
  })

  it('refuses a Content-Type the route does not allow with 415', async () => {
    const { app, seen } = setup()
    const res = await request(app).post('/note').type('form').send('a=1')
    expectRefusal(res, 415, 'content.type.unsupported', seen)
  })
})
