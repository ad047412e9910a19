import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as http2Connect,
  constants,
  createServer,
  Http2ServerResponse,
  type Http2Server,
  type ServerHttp2Stream,
} from 'node:http2'
import type { AddressInfo } from 'node:net'
import { bodyParser as koaBodyParser } from '@koa/bodyparser'
import { serve as serveNode } from '@hono/node-server'
import Router from '@koa/router'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fastifyPlugin, { problemDetails as fastifyProblems } from '../../src/fastify.js'
import { safeBody as honoBody, validBody as honoValid } from '../../src/hono.js'
import {
  problemDetails as koaProblems,
  safeBody as koaBody,
  validBody as koaValid,
} from '../../src/koa.js'
import { createBodyReader, sendProblem } from '../../src/node.js'
import { expectPrototypesUntouched, http2Post } from '../helpers/app.js'
import { contractUser } from './contract.js'

// HTTP/2 needs no Content-Length: a body is whatever DATA frames the stream carries. Each
// server must read it as it reads an HTTP/1.1 body, never take it for none.
type Started = { port: number; close: () => Promise<void>; server: Http2Server }

async function listen(server: Http2Server): Promise<Started> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

const servers: Array<[string, () => Promise<Started>]> = [
  [
    'safebody/node',
    () => {
      const read = createBodyReader({ routes: { 'POST /users': contractUser } })
      return listen(
        createServer((req, res) => {
          const incoming = req as unknown as Parameters<typeof read>[0]
          read(incoming, res as unknown as Parameters<typeof read>[1]).then(
            (body) => {
              res.setHeader('content-type', 'application/json')
              res.end(JSON.stringify({ body: body ?? null }))
            },
            (err: unknown) => {
              const answer = res as unknown as Parameters<typeof sendProblem>[0]
              if (!sendProblem(answer, err)) res.writeHead(500).end()
            },
          )
        }),
      )
    },
  ],
  [
    'safebody/koa',
    () => {
      const app = new Koa()
      app.use(koaProblems())
      app.use(koaBody({ routes: { 'POST /users': contractUser } }))
      app.use((ctx) => {
        ctx.body = { body: koaValid(ctx) ?? null }
      })
      return listen(createServer(app.callback()))
    },
  ],
  [
    'safebody/fastify',
    async () => {
      const app = Fastify({ http2: true })
      await app.register(fastifyPlugin)
      app.setErrorHandler(fastifyProblems())
      app.post('/users', { schema: { body: contractUser } }, (request) => ({
        body: request.body ?? null,
      }))
      await app.listen({ port: 0, host: '127.0.0.1' })
      return {
        server: app.server,
        port: (app.server.address() as AddressInfo).port,
        close: () => app.close(),
      }
    },
  ],
]

/** A JSON upload to /users on `session`; its stream errors are the test's to observe. */
function postUsers(session: ClientHttp2Session): ClientHttp2Stream {
  const stream = session.request({
    ':method': 'POST',
    ':path': '/users',
    'content-type': 'application/json',
  })
  stream.on('error', () => {})
  return stream
}

/** Wait up to 2 s for the server to record an error. */
async function untilSeen(seen: unknown[]): Promise<void> {
  for (let waited = 0; seen.length === 0 && waited < 2000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Send 300 000 bytes of a body, over the 100 kb limit, and keep the stream open: the status
 * of the refusal, once the server has closed the stream. The client then destroys its own
 * (Node's client keeps a stream closed with NO_ERROR while it has bytes left to send).
 */
async function refusedMidBody(port: number): Promise<number> {
  const session = http2Connect(`http://127.0.0.1:${port}`)
  try {
    const stream = postUsers(session)
    stream.write(`{"name":"${'a'.repeat(300_000)}`)
    const status = await new Promise<number>((resolve) => {
      stream.on('response', (headers) => resolve(Number(headers[':status'])))
    })
    stream.resume()
    // The server closes the stream once its answer is written (RST_STREAM NO_ERROR), as a
    // request to stop sending: the client's stream closes without resetting it itself.
    for (let waited = 0; !stream.closed && waited < 2000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(stream.closed).toBe(true)
    expect(stream.rstCode).toBe(constants.NGHTTP2_NO_ERROR)
    stream.destroy()
    return status
  } finally {
    session.close()
  }
}

servers.push([
  'safebody/hono',
  async () => {
    const app = new Hono()
    app.use(honoBody({ routes: { 'POST /users': contractUser } }))
    app.post('/users', (c) => c.json({ body: honoValid(c) ?? null }))
    const server = await new Promise<ReturnType<typeof serveNode>>((resolve) => {
      const s = serveNode({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', createServer }, () =>
        resolve(s),
      )
    })
    return {
      server: server as Http2Server,
      port: (server.address() as AddressInfo).port,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    }
  },
])

describe.each(servers)('an HTTP/2 body without Content-Length, through %s', (name, start) => {
  let server: Started
  beforeAll(async () => {
    server = await start()
  })
  afterAll(() => server.close())

  it('is read, guarded and validated like any other', async () => {
    const ok = await http2Post(server.port, '/users', '{"name":"a","email":"a@b"}')
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body)).toEqual({ body: { name: 'a', email: 'a@b' } })
    const invalid = await http2Post(server.port, '/users', '{"name":"a"}')
    expect(invalid.status).toBe(422)
    expect(JSON.parse(invalid.body).type).toBe('entity.validation.failed')
    const polluted = await http2Post(
      server.port,
      '/users',
      '{"__proto__":{"polluted":1},"name":"a","email":"a@b"}',
    )
    expect(polluted.status).toBe(400)
    expect(JSON.parse(polluted.body).type).toBe('entity.forbidden.key')
    const malformed = await http2Post(server.port, '/users', '{"name":')
    expect(malformed.status).toBe(400)
    expect(JSON.parse(malformed.body).type).toBe('entity.parse.failed')
    expectPrototypesUntouched()
  })

  it('is refused with no Content-Type (no header says there is a body), or none when empty', async () => {
    const body = '{"name":"a","email":"a@b"}'
    const untyped = await http2Post(server.port, '/users', body, 'POST', null)
    expect(untyped.status).toBe(415)
    expect(JSON.parse(untyped.body).type).toBe('content.type.unsupported')
    expectNoBody(await http2Post(server.port, '/users', '', 'POST', null))
  })

  // HTTP/2 has no connection-specific headers (RFC 9113, 8.2.2): Node drops a Connection
  // header with a warning, once a process, so the headers handed to Node are recorded here.
  it('is refused, cut short or whole, with no Connection header', async () => {
    const names: string[] = []
    const proto = Http2ServerResponse.prototype
    const { setHeader, writeHead } = proto
    proto.setHeader = function (this: Http2ServerResponse, key: string, value: unknown) {
      names.push(key.toLowerCase())
      return setHeader.call(this, key, value as string)
    } as typeof setHeader
    proto.writeHead = function (this: Http2ServerResponse, ...args: unknown[]) {
      for (const arg of args.slice(1)) {
        if (typeof arg === 'object' && arg !== null && !Array.isArray(arg)) {
          names.push(...Object.keys(arg).map((key) => key.toLowerCase()))
        }
      }
      return (writeHead as (...a: unknown[]) => Http2ServerResponse).apply(this, args)
    } as typeof writeHead
    try {
      expect(await refusedMidBody(server.port)).toBe(413)
      const polluted = '{"__proto__":{"x":1},"name":"a","email":"a@b"}'
      expect((await http2Post(server.port, '/users', polluted)).status).toBe(400)
      expect(names).toContain('content-type')
      expect(names).not.toContain('connection')
      expectPrototypesUntouched()
    } finally {
      proto.setHeader = setHeader
      proto.writeHead = writeHead
    }
  })

  it('is none when the stream ends with its headers', async () => {
    expectNoBody(await http2Post(server.port, '/users', null))
  })

  // safeBody's global binding lets a bodiless request by; fastify's route schema requires one.
  function expectNoBody(res: { status: number; body: string }) {
    if (name === 'safebody/fastify') {
      expect(res.status).toBe(400)
      expect(JSON.parse(res.body).type).toBe('entity.missing')
    } else {
      expect(res.status).toBe(200)
      expect(JSON.parse(res.body)).toEqual({ body: null })
    }
    expectPrototypesUntouched()
  }
})

// Node destroys a server stream once its read side has ended too: the bytes a refusal left
// buffered (up to the stream's window) kept the stream, its session and its socket for good,
// and server.close() waiting, even after the client left.
describe('an HTTP/2 stream refused mid-body', () => {
  const routes = { 'POST /users': { type: 'object' } }
  it.each([
    [
      'safebody/node',
      () => {
        const read = createBodyReader({ limit: '16kb', routes })
        return listen(
          createServer((req, res) => {
            read(req as unknown as Parameters<typeof read>[0], res as never).then(
              () => res.end(),
              (err: unknown) => sendProblem(res as never, err),
            )
          }),
        )
      },
    ],
    [
      'safebody/koa',
      () => {
        const app = new Koa()
        app.use(koaProblems())
        app.use(koaBody({ limit: '16kb', routes }))
        app.use((ctx) => {
          ctx.body = 'ok'
        })
        return listen(createServer(app.callback()))
      },
    ],
  ])('is let go, buffered bytes and all, on %s', async (_name, start) => {
    const server = await start()
    const streams: ServerHttp2Stream[] = []
    server.server.on('stream', (stream: ServerHttp2Stream) => streams.push(stream))
    const session = http2Connect(`http://127.0.0.1:${server.port}`)
    try {
      for (let i = 0; i < 3; i++) {
        const status = await new Promise<number>((resolve) => {
          const stream = postUsers(session)
          let answer = 0
          stream.on('response', (headers) => (answer = Number(headers[':status'])))
          stream.resume()
          stream.on('end', () => {
            stream.destroy()
            resolve(answer)
          })
          const body = Buffer.alloc(300_000, 32)
          body[0] = 0x7b
          for (let at = 0; at < body.length; at += 16384)
            stream.write(body.subarray(at, at + 16384))
          stream.end()
        })
        expect(status).toBe(413)
      }
      for (let waited = 0; streams.some((s) => !s.destroyed) && waited < 2000; waited += 20) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(streams.map((s) => [s.destroyed, s.readableLength])).toEqual(
        Array.from({ length: 3 }, () => [true, 0]),
      )
    } finally {
      session.close()
      await server.close()
    }
  })
})

// A client that cancels its stream while the application awaits something before the body is
// read went away: 400 request.aborted, never the 500 of a stream another parser consumed.
describe('an HTTP/2 stream cancelled before its body is read', () => {
  const routes = { 'POST /users': contractUser }
  const pause = () => new Promise((resolve) => setTimeout(resolve, 30))
  const starts: Array<[string, (seen: unknown[]) => Promise<Started>]> = [
    [
      'safebody/node',
      (seen) => {
        const read = createBodyReader({ routes })
        return listen(
          createServer(async (req, res) => {
            await pause()
            read(req as unknown as Parameters<typeof read>[0]).then(
              () => res.end(),
              (err: unknown) => {
                seen.push(err)
                res.writeHead(400).end()
              },
            )
          }),
        )
      },
    ],
    [
      'safebody/koa',
      (seen) => {
        const app = new Koa()
        app.silent = true
        app.use(async (ctx, next) => {
          await pause()
          try {
            await next()
          } catch (err) {
            seen.push(err)
            throw err
          }
        })
        app.use(koaBody({ routes }))
        app.use((ctx) => {
          ctx.body = 'ok'
        })
        return listen(createServer(app.callback()))
      },
    ],
    [
      'safebody/fastify',
      async (seen) => {
        const app = Fastify({ http2: true })
        await app.register(fastifyPlugin)
        app.addHook('onRequest', pause)
        app.setErrorHandler((err, _request, reply) => {
          seen.push(err)
          return reply.code(400).send()
        })
        app.post('/users', { schema: { body: contractUser } }, () => 'ok')
        await app.listen({ port: 0, host: '127.0.0.1' })
        const port = (app.server.address() as AddressInfo).port
        return { server: app.server, port, close: () => app.close() }
      },
    ],
  ]

  it.each(starts)('is 400 request.aborted on %s', async (_name, start) => {
    const seen: unknown[] = []
    const server = await start(seen)
    const session = http2Connect(`http://127.0.0.1:${server.port}`)
    try {
      const stream = postUsers(session)
      stream.write('{"name":')
      await new Promise((resolve) => setTimeout(resolve, 5))
      stream.close(constants.NGHTTP2_CANCEL)
      await untilSeen(seen)
      expect(seen).toEqual([expect.objectContaining({ status: 400, type: 'request.aborted' })])
      expectPrototypesUntouched()
    } finally {
      session.close()
      await server.close()
    }
  })
})

// node:http2's compatibility request says `aborted` for any stream reset before its answer,
// also one whose body a parser read whole: that is still the 500 of a parser that came first.
it('a stream another parser read whole, then reset, is the 500 of a parser first', async () => {
  const seen: unknown[] = []
  const app = new Koa()
  app.on('error', (err: unknown) => seen.push(err))
  app.use(koaBodyParser())
  app.use(async (_ctx, next) => {
    await new Promise((resolve) => setTimeout(resolve, 50))
    await next()
  })
  app.use(koaBody({ routes: { 'POST /users': contractUser } }))
  const server = await listen(createServer(app.callback()))
  const session = http2Connect(`http://127.0.0.1:${server.port}`)
  try {
    const stream = postUsers(session)
    stream.end('{"name":"a","email":"a@b"}')
    await new Promise((resolve) => setTimeout(resolve, 20))
    stream.close(constants.NGHTTP2_CANCEL)
    await untilSeen(seen)
    expect(seen).toEqual([expect.objectContaining({ status: 500 })])
  } finally {
    session.close()
    await server.close()
  }
})

// HTTP/2 hands `:method` on as sent; @koa/router upper-cases it before matching, so a `post`
// runs the POST handler, and must be held to the POST binding.
describe('a lower-case :method over HTTP/2', () => {
  const routes = {
    'POST /orders': { schema: contractUser, required: true },
    'GET /search': { schema: { type: 'object' }, required: true },
  } as const
  const koaServer = () => {
    const app = new Koa()
    app.use(koaProblems())
    app.use(koaBody({ routes }))
    const router = new Router()
    const echo = (ctx: Koa.Context) => {
      ctx.body = { body: koaValid(ctx) ?? null }
    }
    router.post('/orders', echo)
    router.get('/search', echo)
    app.use(router.routes())
    return listen(createServer(app.callback()))
  }
  const nodeServer = () => {
    const read = createBodyReader({ routes })
    return listen(
      createServer((req, res) => {
        read(req as unknown as Parameters<typeof read>[0]).then(
          (body) => res.end(JSON.stringify({ body: body ?? null })),
          (err: unknown) => {
            if (!sendProblem(res as unknown as Parameters<typeof sendProblem>[0], err)) {
              res.writeHead(500).end()
            }
          },
        )
      }),
    )
  }

  it.each([
    ['koa with @koa/router', koaServer],
    ['safebody/node', nodeServer],
  ])('is held to the upper-case binding on %s', async (_name, start) => {
    const server = await start()
    try {
      for (const method of ['post', 'Post']) {
        const none = await http2Post(server.port, '/orders', null, method)
        expect(none.status, method).toBe(400)
        expect(JSON.parse(none.body).type).toBe('entity.missing')
        const invalid = await http2Post(server.port, '/orders', '{"name":"a"}', method)
        expect(invalid.status, method).toBe(422)
        expect(JSON.parse(invalid.body).type).toBe('entity.validation.failed')
        const ok = await http2Post(server.port, '/orders', '{"name":"a","email":"a@b"}', method)
        expect(ok.status, method).toBe(200)
        expect(JSON.parse(ok.body)).toEqual({ body: { name: 'a', email: 'a@b' } })
      }
      // A lower-case HEAD is held to the GET binding too.
      const head = await http2Post(server.port, '/search', null, 'head')
      expect(head.status).toBe(400)
      expectPrototypesUntouched()
    } finally {
      await server.close()
    }
  })
})
