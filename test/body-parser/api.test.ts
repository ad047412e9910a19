import { connect } from 'node:net'
import bodyParserOriginal from 'body-parser'
import type { ErrorRequestHandler, Express } from 'express'
import { describe, expect, it } from 'vitest'
import { formatParser } from '../../src/body-parser/format.js'
import bodyParser, { json, raw, text, urlencoded } from '../../src/body-parser/index.js'
import { formats } from '../../src/decoders/formats.js'
import { problemDetails, safeBody } from '../../src/index.js'
import {
  type ExpressFactory,
  expectPrototypesUntouched,
  frameworks,
  untilClosed,
} from '../helpers/app.js'
import { describeError, parserApp, send, serve } from './harness.js'

type Factory = (options?: Record<string, unknown>) => unknown
const theirs = bodyParserOriginal as unknown as Record<string, Factory> & (() => never)
const mine = bodyParser as unknown as Record<string, Factory> & (() => never)

function thrown(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`
  }
  return 'no error'
}

describe('module shape', () => {
  it('is a function that throws like body-parser 2 when called', () => {
    expect(typeof bodyParser).toBe('function')
    expect(thrown(() => mine())).toBe(thrown(() => theirs()))
  })

  it('carries json, raw, text and urlencoded, also as named exports', () => {
    expect(bodyParser.json).toBe(json)
    expect(bodyParser.raw).toBe(raw)
    expect(bodyParser.text).toBe(text)
    expect(bodyParser.urlencoded).toBe(urlencoded)
    for (const name of ['json', 'raw', 'text', 'urlencoded']) {
      expect(typeof mine[name]?.()).toBe('function')
    }
  })
})

describe("options are checked when the factory is called, with body-parser's errors", () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ['json', { limit: 'lots' }],
    ['json', { limit: true }],
    ['raw', { limit: {} }],
    ['text', { verify: 'yes' }],
    ['urlencoded', { defaultCharset: 'utf-16' }],
    ['urlencoded', { parameterLimit: 0 }],
    ['urlencoded', { parameterLimit: 'many' }],
    ['urlencoded', { extended: true, depth: -1 }],
    ['urlencoded', { extended: true, depth: 'deep' }],
  ]
  it.each(bad)('%s(%o) throws as body-parser does', (name, options) => {
    const expected = thrown(() => theirs[name]?.(options))
    expect(expected).toMatch(/^TypeError/)
    expect(thrown(() => mine[name]?.(options))).toBe(expected)
  })

  it.each([
    ['json', { limit: '1mb' }],
    ['json', { limit: null }],
    ['urlencoded', { depth: -1 }],
    ['urlencoded', { parameterLimit: Number.POSITIVE_INFINITY }],
    ['text', { unknownOption: 1 }],
  ])('%s(%o) is accepted, as by body-parser', (name, options) => {
    expect(thrown(() => theirs[name]?.(options))).toBe('no error')
    expect(thrown(() => mine[name]?.(options))).toBe('no error')
  })

  it('checks the structure limits json adds', () => {
    expect(() => json({ maxDepth: 0 })).toThrow(/maxDepth must be a positive integer/)
    expect(() => json({ maxKeys: 1.5 })).toThrow(/maxKeys/)
  })
})

async function errorOf(express: ExpressFactory, parser: unknown, write: (port: number) => void) {
  const app = express() as Express
  let resolve: (err: Record<string, unknown>) => void = () => undefined
  const seen = new Promise<Record<string, unknown>>((r) => {
    resolve = r
  })
  app.use(parser as never)
  app.use(((err, _req, res, _next) => {
    resolve(describeError(err))
    res.status(err.status).end()
  }) as ErrorRequestHandler)
  write(await serve(app))
  return seen
}

describe.each(frameworks)('in an app (%s)', (_name, express) => {
  it('a second parser passes over a body the first one read (theirs then ours, ours then theirs)', async () => {
    for (const parsers of [
      [bodyParserOriginal.json(), json()],
      [json(), bodyParserOriginal.json()],
      [json(), json({ type: '*/*' })],
    ]) {
      const port = await serve(parserApp(express, ...(parsers as never[])))
      const res = await send(port, {
        headers: { 'Content-Type': 'application/json' },
        body: '{"a":1}',
      })
      expect(res).toMatchObject({ status: 200, result: { value: { a: 1 } } })
    }
  })

  it('reports an aborted request as body-parser does (400 request.aborted, received/expected)', async () => {
    const abort = (port: number) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
        )
        setTimeout(() => socket.destroy(), 50)
      })
    }
    const expected = await errorOf(express, bodyParserOriginal.json(), abort)
    const actual = await errorOf(express, json(), abort)
    expect(expected).toMatchObject({
      type: 'request.aborted',
      status: 400,
      received: 5,
      expected: 100,
    })
    expect(actual).toEqual(expected)
  })

  it('answers a request pipelined behind a refusal, as body-parser does (415 charset)', async () => {
    const refused =
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=koi8-r\r\n' +
      'Content-Length: 7\r\n\r\n{"a":1}'
    const valid =
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n' +
      'Content-Length: 7\r\n\r\n{"a":2}'
    const statuses = async (parser: unknown) => {
      const port = await serve(parserApp(express, parser as never))
      const answer = await untilClosed(port, refused + valid)
      return [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
    }
    expect(await statuses(bodyParserOriginal.json())).toEqual([415, 200])
    expect(await statuses(json())).toEqual([415, 200])
    expectPrototypesUntouched()
  })

  it("passes on raw-body's 500 when something set an encoding on the stream", async () => {
    const setEncoding = (
      req: { setEncoding(e: string): void },
      _res: unknown,
      next: () => void,
    ) => {
      req.setEncoding('utf8')
      next()
    }
    const request = { headers: { 'Content-Type': 'text/plain' }, body: 'x' }
    const a = await send(
      await serve(parserApp(express, setEncoding as never, bodyParserOriginal.text())),
      request,
    )
    const b = await send(await serve(parserApp(express, setEncoding as never, text())), request)
    expect(a).toMatchObject({ status: 500, result: { type: 'stream.encoding.set' } })
    expect(b).toEqual(a)
    expectPrototypesUntouched()
  })

  it('makes safeBody() refuse to run after it, rather than skip validation', async () => {
    const app = express() as Express
    app.use(json())
    app.use(safeBody({ routes: { 'POST /': { schema: { type: 'object' } } } }))
    app.use((_req, res) => {
      res.status(200).end()
    })
    app.use(((err, _req, res, _next) => {
      res.status(err.status).end()
    }) as ErrorRequestHandler)
    const res = await send(await serve(app), {
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    })
    expect(res.status).toBe(500)
  })

  it('its refusals render as problem details with a stable type', async () => {
    const app = express() as Express
    app.use(json())
    app.use(problemDetails())
    const res = await send(await serve(app), {
      headers: { 'Content-Type': 'application/json' },
      body: '{"__proto__":{"x":1}}',
    })
    expect(res).toMatchObject({
      status: 400,
      result: { type: 'entity.forbidden.key', status: 400 },
    })
    // A JSON.parse failure too, with the catalogue's client-safe detail, not the input.
    const malformed = await send(await serve(app), {
      headers: { 'Content-Type': 'application/json' },
      body: '{bad secret',
    })
    expect(malformed).toMatchObject({
      status: 400,
      result: { type: 'entity.parse.failed', status: 400, detail: 'The body is malformed.' },
    })
    expect(JSON.stringify(malformed.result)).not.toContain('secret')
  })
})

describe.each(frameworks)('formatParser over a safebody format (%s)', (_name, express) => {
  it("reads the format's media types with its decoder and guard", async () => {
    const port = await serve(parserApp(express, formatParser(formats.urlencoded) as never))
    const ok = await send(port, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a[b]=1',
    })
    expect(ok).toMatchObject({ status: 200, result: { value: { a: { b: '1' } } } })
    const bad = await send(port, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '__proto__[x]=1',
    })
    expect(bad).toMatchObject({ status: 400, result: { type: 'entity.forbidden.key' } })
  })

  it("answers to the format's +suffix and refuses a charset other than UTF-8 (415)", async () => {
    const port = await serve(
      parserApp(express, formatParser(formats.json, { maxDepth: 2 }) as never),
    )
    const suffix = await send(port, {
      headers: { 'Content-Type': 'application/problem+json' },
      body: '{"a":1}',
    })
    expect(suffix).toMatchObject({ status: 200, result: { value: { a: 1 } } })
    const deep = await send(port, {
      headers: { 'Content-Type': 'application/json' },
      body: '[[[1]]]',
    })
    expect(deep).toMatchObject({ status: 400, result: { type: 'entity.too.deep' } })
    const latin = await send(port, {
      headers: { 'Content-Type': 'application/json; charset=latin1' },
      body: '{}',
    })
    expect(latin).toMatchObject({ status: 415, result: { type: 'charset.unsupported' } })
  })

  it('leaves req.body undefined for an empty body and passes other types over', async () => {
    const port = await serve(parserApp(express, formatParser(formats.raw) as never))
    const empty = await send(port, {
      headers: { 'Content-Type': 'application/octet-stream' },
      body: '',
    })
    expect(empty).toMatchObject({ status: 200, result: { kind: 'undefined' } })
    const other = await send(port, { headers: { 'Content-Type': 'text/plain' }, body: 'x' })
    expect(other).toMatchObject({ status: 200, result: { kind: 'undefined' } })
  })
})
