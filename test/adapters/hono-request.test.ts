import zlib from 'node:zlib'
import { type Context, Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { describe, expect, it } from 'vitest'
import { safeBody, validBody } from '../../src/hono.js'
import { expectPrototypesUntouched } from '../helpers/app.js'

// Web Requests built by hand and handed to the app in-process (`app.request()`,
// `app.fetch(new Request(...))`): their body is a stream that no HTTP parser framed, so what
// Node's parser would refuse or make unreachable reaches safebody as it was built.

const item = { type: 'object', properties: { a: { type: 'number' } } } as const

/**
 * An app with a global instance on /global, which binds it (a body not required), and on
 * /open, which it does not bind; a per-route binding on /route (a body required). The error
 * each request failed with (the catalogued one, for a refusal) is kept in `errors`, the bodies
 * the handlers got in `ran`.
 */
function itemApp() {
  const app = new Hono()
  const errors: unknown[] = []
  const ran: unknown[] = []
  const global = safeBody({ routes: { 'POST /global': item } })
  const perRoute = safeBody()
  app.onError((err, c) => {
    errors.push(err instanceof HTTPException ? err.cause : err)
    // Hono's own handler answers 500 too, and logs the error: kept quiet here.
    return err instanceof HTTPException ? err.getResponse() : c.text('fault', 500)
  })
  app.use('/global', global)
  app.use('/open', global)
  const handle = (c: Context) => {
    ran.push(validBody(c) ?? null)
    return c.json({ body: validBody(c) ?? null })
  }
  app.post('/global', handle)
  app.post('/route', perRoute.route(item), handle)
  app.post('/open', handle)
  return { app, errors, ran, stats: () => global.stats().refused + perRoute.stats().refused }
}

/** The problem document's `type`. */
const typeOf = async (res: Response) => ((await res.json()) as { type?: unknown }).type

/** A stream of `chunks`, one per pull; `cancelled` turns true when its reader cancels it. */
function chunkStream(chunks: readonly unknown[]) {
  const state = { pulled: 0, cancelled: false }
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === chunks.length) return controller.close()
      controller.enqueue(chunks[state.pulled++] as Uint8Array)
    },
    cancel() {
      state.cancelled = true
    },
  })
  return { stream, state }
}

function post(
  app: Hono,
  path: string,
  body: RequestInit['body'] | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    }),
  )
}

describe('safebody/hono: a Web stream whose chunks are not bytes', () => {
  it('is a server fault (500 stream.chunk.invalid, not exposed), not a client abort', async () => {
    const { app, errors, ran, stats } = itemApp()
    const chunks: Array<[string, unknown]> = [
      ['a string', '{"a":1}'],
      ['an ArrayBuffer', new TextEncoder().encode('{"a":1}').buffer],
      ['a number', 42],
      ['null', null],
      ['a plain object', { length: 1 }],
    ]
    for (const [name, chunk] of chunks) {
      for (const path of ['/global', '/route']) {
        errors.length = 0
        const { stream, state } = chunkStream([new TextEncoder().encode('{"a"'), chunk, ':1}'])
        const res = await post(app, path, stream)
        expect(res.status, `${name} on ${path}`).toBe(500)
        expect(errors, name).toEqual([
          expect.objectContaining({ status: 500, expose: false, type: 'stream.chunk.invalid' }),
        ])
        expect((errors[0] as Error).message, name).toMatch(/must enqueue Uint8Array/)
        // The read stops there: the stream is cancelled, its last chunk never pulled.
        expect(state, name).toEqual({ pulled: 2, cancelled: true })
      }
    }
    expect(ran).toEqual([])
    // Not a client's refusal: no counter moved.
    expect(stats()).toBe(0)
    expectPrototypesUntouched()
  })

  it('reads every ArrayBuffer view as its bytes, and still takes a failing stream as an abort', async () => {
    const { app, errors, ran } = itemApp()
    const bytes = new TextEncoder().encode('{"a":12}')
    const views = [
      bytes,
      Buffer.from(bytes),
      new DataView(bytes.buffer),
      new Uint16Array(bytes.buffer),
      new Float64Array(bytes.buffer),
      // A view of part of a larger buffer: its own bytes only.
      new Uint8Array(new TextEncoder().encode('xx{"a":12}yy').buffer, 2, 8),
    ]
    for (const view of views) {
      const { stream } = chunkStream([view])
      const res = await post(app, '/route', stream)
      expect(res.status, view.constructor.name).toBe(200)
      expect(await res.json()).toEqual({ body: { a: 12 } })
    }
    expect(ran).toHaveLength(views.length)
    // A stream that errors is a client that went away, as before.
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"a"'))
        controller.error(new Error('connection reset'))
      },
    })
    const aborted = await post(app, '/route', failing)
    expect(aborted.status).toBe(400)
    expect(await typeOf(aborted)).toBe('request.aborted')
    expect(errors).toEqual([expect.objectContaining({ type: 'request.aborted' })])
    expectPrototypesUntouched()
  })
})

describe('safebody/hono: Content-Length: 0 on a hand-built Request with a body', () => {
  it('reads the body and refuses it with 400 request.size.invalid, not dropped unread', async () => {
    const { app, errors, ran } = itemApp()
    const bodies: Array<[string, () => RequestInit['body']]> = [
      ['a string', () => '{"a":1}'],
      ['a stream', () => chunkStream([new TextEncoder().encode('{"a":1}')]).stream],
    ]
    for (const [name, body] of bodies) {
      for (const path of ['/global', '/route', '/open']) {
        errors.length = 0
        const res = await post(app, path, body(), { 'content-length': '0' })
        expect(res.status, `${name} on ${path}`).toBe(400)
        expect(await typeOf(res)).toBe('request.size.invalid')
        expect(errors).toEqual([
          expect.objectContaining({ received: 7, expected: 0, length: 0, expose: true }),
        ])
      }
    }
    // As `app.fetch` with a Request made by hand, and with a Content-Length of zeros.
    const fetched = await app.fetch(
      new Request('http://x/global', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '00' },
        body: '{"a":1}',
      }),
    )
    expect(fetched.status).toBe(400)
    expect(await typeOf(fetched)).toBe('request.size.invalid')
    expect(ran).toEqual([])
    expectPrototypesUntouched()
  })

  it('takes an empty stream as no body, as before: whatever its type, coding or binding', async () => {
    const { app, ran } = itemApp()
    const declaredEmpty: Array<Record<string, string>> = [
      { 'content-length': '0' },
      { 'content-length': '0', 'content-type': '' },
      // Nothing to inflate: the coding is moot, even one this server does not know.
      { 'content-length': '0', 'content-encoding': 'gzip' },
      { 'content-length': '0', 'content-encoding': 'zip' },
    ]
    for (const headers of declaredEmpty) {
      for (const path of ['/global', '/open']) {
        for (const body of ['', chunkStream([]).stream, null]) {
          const res = await post(app, path, body, headers)
          expect(res.status, `${JSON.stringify(headers)} on ${path}`).toBe(200)
          expect(await res.json()).toEqual({ body: null })
        }
      }
      // The per-route binding requires a body, as it did: none was sent.
      const missing = await post(app, '/route', '', headers)
      expect(missing.status).toBe(400)
      expect(await typeOf(missing)).toBe('entity.missing')
    }
    expect(ran).toHaveLength(4 * 2 * 3)
    expectPrototypesUntouched()
  })

  it("leaves Hono's readers an empty body after it read the stream to find it so", async () => {
    const app = new Hono()
    app.use(safeBody({ routes: { 'POST /read': item } }))
    app.post('/read', async (c) => c.json({ text: await c.req.text(), body: validBody(c) ?? null }))
    const res = await post(app, '/read', chunkStream([]).stream, { 'content-length': '0' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ text: '', body: null })
    expectPrototypesUntouched()
  })
})

describe('safebody/hono: Content-Length of a compressed hand-built Request', () => {
  const json = JSON.stringify({ a: 1, text: 'x'.repeat(2000) })
  const compress: Record<string, (text: string) => Buffer> = {
    gzip: (text) => zlib.gzipSync(text),
    deflate: (text) => zlib.deflateSync(text),
    br: (text) => zlib.brotliCompressSync(text),
  }
  const zstd = (zlib as { zstdCompressSync?: (text: string) => Buffer }).zstdCompressSync
  if (zstd !== undefined) compress.zstd = (text) => zstd(text)

  it('is held to the bytes on the wire: more or fewer declared is 400 request.size.invalid', async () => {
    const { app, errors, ran } = itemApp()
    for (const [coding, coded] of Object.entries(compress)) {
      const body = coded(json)
      const send = (length: number) =>
        post(app, '/route', body, { 'content-encoding': coding, 'content-length': String(length) })
      const ok = await send(body.length)
      expect(ok.status, coding).toBe(200)
      expect(await ok.json()).toEqual({ body: JSON.parse(json) })
      for (const length of [body.length + 5, body.length - 3, 0]) {
        errors.length = 0
        const res = await send(length)
        expect(res.status, `${coding} declared ${length} of ${body.length}`).toBe(400)
        expect(await typeOf(res)).toBe('request.size.invalid')
        // The bytes on the wire, never the inflated ones, against what was declared.
        expect(errors).toEqual([
          expect.objectContaining({ received: body.length, expected: length, length }),
        ])
      }
    }
    expect(ran).toHaveLength(Object.keys(compress).length)
    expectPrototypesUntouched()
  })

  it('refuses a compressed stream as soon as it runs past its length, and cancels it', async () => {
    const { app, errors, ran } = itemApp()
    const coded = zlib.gzipSync(json)
    const chunks = [coded.subarray(0, 10), coded.subarray(10, 20), coded.subarray(20)]
    const { stream, state } = chunkStream(chunks)
    const res = await post(app, '/route', stream, {
      'content-encoding': 'gzip',
      'content-length': '15',
    })
    expect(res.status).toBe(400)
    expect(await typeOf(res)).toBe('request.size.invalid')
    expect(errors).toEqual([expect.objectContaining({ received: 20, expected: 15, length: 15 })])
    expect(state).toEqual({ pulled: 2, cancelled: true })
    expect(ran).toEqual([])
    expectPrototypesUntouched()
  })
})
